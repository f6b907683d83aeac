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
  | { ok: false; code: string; status?: number; reason: string; refetch_jwks?: boolean };

/**
 * Decides `req` with `gate`, fetching the JWKS when the core asks for it.
 * `bodyJson` is the parsed body, passed only when the route's tenant comes
 * from the body; the query string and every header a policy may name as the
 * tenant source (`x-tenant-id`, ...) are handed over as they are. `url` is
 * `new URL(req.url)` when the caller has parsed it already.
 */
export async function authenticate(gate: Gate, req: Request, bodyJson?: unknown, url = new URL(req.url)): Promise<Decision> {
  const now = Date.now();
  if (gate.needsJwks(now)) await loadJwks(gate, now);
  const query = url.search.startsWith("?") ? url.search.slice(1) : url.search;
  const authorization = req.headers.get("authorization") ?? undefined;
  const apikey = req.headers.get("apikey") ?? undefined;
  const headers = tenantHeaders(req.headers);
  const body = bodyJson === undefined ? undefined : JSON.stringify(bodyJson);
  const check = () =>
    JSON.parse(gate.checkParts(req.method, url.pathname, query, authorization, apikey, headers, body, now)) as Decision;
  let decision = check();
  if (!decision.ok && decision.refetch_jwks) {
    await loadJwks(gate, now);
    decision = check();
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

// Headers a policy may name as tenant source (`x-...`), as a JSON object
// (usually `{}`); credentials travel as their own arguments, cookies never.
function tenantHeaders(headers: Headers): string {
  let out: Record<string, string> | undefined;
  for (const [name, value] of headers) {
    if (name.startsWith("x-")) (out ??= {})[name] = value;
  }
  return out ? JSON.stringify(out) : "{}";
}
