// Verifies a user API key in Postgres when the core asks for it (a
// `lookup_api_key` answer): one call of private.api_key_verify with the keyed
// hash the core computed (and the previous pepper's hash during a SECRET_KEY
// rotation). The row goes back to the core, which decides; nothing here
// looks at it. Counted uses and per-key rate limits are decided in that call,
// under the key's row lock (docs/api-keys.md).
//
// One statement on the durable pool, outside any explicit transaction: the
// function is atomic on its own (security definer, owner-only), so the
// lookup costs one round trip instead of asAdmin's five (begin, settings,
// call, checkpoint probe, commit). A pepper re-hash it performs is audited
// with no actor, as the service's own maintenance.
import type { Gate } from "./wasm/edgeguard_wasm.js";
import { connectPostgres } from "./connect_postgres.ts";

/** What the core asks to look up: hashes only, never the key. */
export interface ApiKeyLookup {
  key_hash: string;
  previous_hash: string | null;
}

/** Looks the key up and hands the row to the gate (as of `now`, the decision's time). */
export async function verifyApiKey(gate: Gate, lookup: ApiKeyLookup, now: number): Promise<void> {
  const sql = await connectPostgres();
  const [row] = await sql`select status, key_id, user_id, tenant_id, scopes, user_role, permissions,
                                 expires_at::float8 as expires_at, counted, retry_after_s
                          from private.api_key_verify(${lookup.key_hash}, ${lookup.previous_hash})`;
  gate.putApiKey(lookup.key_hash, JSON.stringify(row), now);
}
