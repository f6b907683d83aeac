// Signed checkpoints of the audit chains (docs/security.md, "Audit log
// integrity"). db.ts calls signCheckpoints(tx, signer) at the end of every
// transaction: when the transaction wrote audit rows, the heads of the chains
// it wrote are signed by the wasm core with AUDIT_SIGNING_KEY, stored in
// private.audit_checkpoints (same transaction, while the chain's lock is still
// held: the checkpoint commits with the rows or not at all) and logged as one
// line of public data per chain. I/O only: the key, the message and the
// production rule live in edgeguard-core.
//
// Whether to sign is the pipeline module's answer (no key outside production:
// disabled); the signer itself is in the handlers' module, loaded at the
// first transaction that wrote audit rows (docs/architecture.md, "The wasm
// boundary"), so a function that never writes them never loads it.
import { loadWasm } from "../runtime/load_wasm.ts";
import { loadHandlersWasm } from "../runtime/load_handlers_wasm.ts";
import { log } from "../runtime/log.ts";
import { GuardError } from "../http/respond_error.ts";
import { parseAnswer } from "../runtime/parse_answer.ts";
import type { AuditSigner } from "../wasm/edgeguard_handlers.js";

/** A transaction handle able to run tagged-template queries. */
// deno-lint-ignore no-explicit-any
type Tx = (strings: TemplateStringsArray, ...values: any[]) => Promise<any[]>;

/** The built signer: usable, or misconfigured (unusable key, or none in production). */
export type ReadySigner =
  | { state: "enabled"; keyId: string; signer: AuditSigner }
  | { state: "misconfigured"; reason: string };

/**
 * The signer of one isolate: disabled (no key outside production), or
 * wanted, built by `ready()` on first use (the handlers' module is loaded then).
 */
export type CheckpointSigner =
  | { state: "disabled" }
  | { state: "wanted"; ready(): Promise<ReadySigner> };

/** The signer for `env` (AUDIT_SIGNING_KEY, APP_ENV); logs once when it cannot sign. */
export function checkpointSigner(env: Record<string, string>): CheckpointSigner {
  const envJson = JSON.stringify(env);
  if (!loadWasm().auditCheckpointsWanted(envJson)) {
    log("warn", "edgeguard: audit checkpoints disabled: AUDIT_SIGNING_KEY is not set (required in production)");
    return { state: "disabled" };
  }
  let built: Promise<ReadySigner> | undefined;
  return { state: "wanted", ready: () => built ??= buildSigner(envJson) };
}

async function buildSigner(envJson: string): Promise<ReadySigner> {
  let signer: AuditSigner;
  try {
    signer = new (await loadHandlersWasm()).AuditSigner(envJson);
  } catch (e) {
    const reason = `wasm: ${e instanceof Error ? e.message : String(e)}`;
    log("error", "edgeguard: audit checkpoints misconfigured", { reason });
    return { state: "misconfigured", reason };
  }
  const status = parseAnswer<{ enabled: boolean; key_id?: string }>(signer.status());
  if (!status.ok) {
    log("error", "edgeguard: audit checkpoints misconfigured", { reason: status.reason });
    return { state: "misconfigured", reason: status.reason };
  }
  if (!status.enabled) {
    // the pipeline module said wanted: the two modules disagree (a stale build)
    return { state: "misconfigured", reason: "audit signer: enabled state differs between the wasm modules" };
  }
  return { state: "enabled", keyId: status.key_id ?? "", signer };
}

interface Signed {
  chain_id: string;
  seq: string;
  hash: string;
  signed_at_ms: number;
  key_id: string;
  signature: string;
}

/**
 * Signs and stores the heads of the chains this transaction wrote (at most
 * one checkpoint per chain). Runs as service_role: clients cannot append
 * checkpoints. Throws GuardError MISCONFIGURED when audit rows were written
 * but the signer is misconfigured (the transaction then rolls back).
 */
export async function signCheckpoints(tx: Tx, signer: CheckpointSigner): Promise<void> {
  if (signer.state === "disabled") return;
  const [noted] = await tx`select set_config('role', 'service_role', true),
    coalesce(current_setting('edgeguard.audit_chains_written', true), '') as chains`;
  if (!noted?.chains) return;
  const ready = await signer.ready();
  if (ready.state === "misconfigured") throw new GuardError("MISCONFIGURED", ready.reason);
  const heads = await tx`select chain_id, seq::text as seq, hash from private.audit_written_heads()`;
  const now = Date.now();
  const signed: Signed[] = [];
  for (const h of heads) {
    const answer = parseAnswer<Signed>(ready.signer.sign(h.chain_id, h.seq, h.hash, now));
    if (!answer.ok) throw new GuardError(answer.code, answer.reason);
    signed.push(answer);
  }
  if (signed.length === 0) return;
  await tx`insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
    select * from jsonb_to_recordset(${JSON.stringify(signed)}::text::jsonb)
      as c(chain_id uuid, seq bigint, hash text, signed_at_ms bigint, key_id text, signature text)
    on conflict (chain_id, seq) do nothing`;
  for (const c of signed) {
    log(
      "info",
      `audit checkpoint chain=${c.chain_id} seq=${c.seq} hash=${c.hash} signed_at=${c.signed_at_ms} key_id=${c.key_id} sig=${c.signature}`,
    );
  }
}
