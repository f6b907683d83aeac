// Hands the request's credentials to the wasm Gate and returns its decision.
import type { Gate } from "./wasm/edgeguard_wasm.js";
import { fetchJwks } from "./fetch_jwks.ts";
import { log } from "./log.ts";

export interface Identity {
  kind: "user" | "publishable" | "secret" | "none";
  key_name?: string;
  sub: string | null;
  role: string | null;
  email: string | null;
  user_role: string | null;
  tenant_id: string | null;
  permissions: string[];
  aal: string | null;
  is_anonymous: boolean;
  exp: number | null;
  claims: Record<string, unknown> | null;
}

export type Decision =
  | { ok: true; route: string; params: Record<string, string>; identity: Identity }
  | { ok: false; code: string; reason: string; refetch_jwks?: boolean };

/** Decides `req` with `gate`, fetching the JWKS when the core asks for it. */
export async function authenticate(gate: Gate, req: Request): Promise<Decision> {
  const now = Date.now();
  if (gate.needsJwks(now)) await loadJwks(gate, now);
  const url = new URL(req.url);
  const facts = JSON.stringify({
    method: req.method,
    path: url.pathname,
    headers: pick(req.headers, ["authorization", "apikey"]),
  });
  let decision = JSON.parse(gate.check(facts, now)) as Decision;
  if (!decision.ok && decision.refetch_jwks) {
    await loadJwks(gate, now);
    decision = JSON.parse(gate.check(facts, now)) as Decision;
  }
  return decision;
}

async function loadJwks(gate: Gate, now: number): Promise<void> {
  const url = gate.jwksUrl();
  if (!url) return;
  try {
    const { text, maxAge } = await fetchJwks(url);
    gate.setJwks(text, maxAge, now);
  } catch (e) {
    gate.jwksFetchFailed(now);
    log("warn", "edgeguard: JWKS fetch failed", { reason: e instanceof Error ? e.message : "unknown" });
  }
}

function pick(headers: Headers, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = headers.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}
