// Hands the request's credentials to the wasm Gate and returns its decision.
import type { Gate } from "./wasm/edgeguard_wasm.js";
import { fetchJwks } from "./fetch_jwks.ts";
import { log } from "./log.ts";
import { type ApiKeyLookup, verifyApiKey } from "./verify_api_key.ts";

export interface Identity {
  kind: "user" | "publishable" | "secret" | "apikey" | "none";
  key_name?: string;
  /** The user API key (`apikey` identities; `sub` is its owner). */
  api_key_id?: string;
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
  | {
    ok: true;
    route: string;
    params: Record<string, string>;
    /** "body": the route's tenant is a body field; call checkBodyTenant() with the checked body before the handler. */
    tenant_check?: "body";
    identity: Identity;
  }
  | {
    ok: false;
    code: string;
    status?: number;
    reason: string;
    refetch_jwks?: boolean;
    /** With `refetch_jwks`: the third-party issuer JWKS to fetch (absent: Supabase Auth's). */
    jwks_url?: string;
    actor?: string | null;
    /** A well-formed user API key the core has not verified in the last second. */
    lookup_api_key?: ApiKeyLookup;
    /** For a 429 of a per-key rate limit: the seconds for `Retry-After`. */
    retry_after_s?: number;
  };

/**
 * Decides `req` with `gate`, fetching the JWKS when the core asks for it.
 * The query string and the headers the policy names as a tenant source are
 * handed over as they are; the body never is (a body tenant comes back as
 * `tenant_check: "body"`, for {@link checkBodyTenant}). `url` is
 * `new URL(req.url)` when the caller has parsed it already.
 *
 * Synchronous unless a JWKS fetch or a user API key lookup is needed (a
 * Promise then): the common path costs no microtask. A user API key
 * (`x-api-key` or `Bearer egk_…`) the core has checked (format, checksum) is
 * verified in Postgres, at most once a second per key and isolate
 * (docs/api-keys.md). The identity in an allow is frozen: it may be
 * shared by every request that presents the same token.
 */
export function authenticate(gate: Gate, req: Request, url = new URL(req.url)): Decision | Promise<Decision> {
  const now = Date.now();
  const run = () => decideWithRefetch(gate, req, url, now);
  return gate.needsJwks(now) ? loadJwks(gate, now).then(run) : run();
}

/**
 * The step an allow with `tenant_check: "body"` left pending, decided by the
 * core: `body` (as the body checks parsed it) must name the identity's
 * tenant in the route's tenant field. A refusal is 403 TENANT_MISMATCH.
 */
export function checkBodyTenant(
  gate: Gate,
  route: string,
  identity: Identity,
  body: unknown,
): { ok: true } | { ok: false; code: string; reason: string } {
  return JSON.parse(gate.checkBodyTenant(route, identity.tenant_id ?? undefined, JSON.stringify(body ?? null)));
}

/**
 * One decision; when the core asks for a JWKS refetch (unknown kid), one
 * refetch and one retry; when it asks for an API key lookup, the lookup and
 * one more decision (which then has the row).
 */
function decideWithRefetch(gate: Gate, req: Request, url: URL, now: number): Decision | Promise<Decision> {
  const decision = decide(gate, req, url, now);
  if (!decision.ok && decision.lookup_api_key) {
    return verifyApiKey(gate, decision.lookup_api_key, now).then(() => decide(gate, req, url, now));
  }
  if (decision.ok || !decision.refetch_jwks) return decision;
  return loadJwks(gate, now, decision.jwks_url).then(() => decide(gate, req, url, now));
}

function decide(gate: Gate, req: Request, url: URL, now: number): Decision {
  const answer = gate.checkParts(
    req.method,
    url.pathname,
    url.search.startsWith("?") ? url.search.slice(1) : url.search,
    req.headers.get("authorization") ?? undefined,
    req.headers.get("apikey") ?? undefined,
    req.headers.get("x-api-key") ?? undefined,
    tenantHeaders(gate, req.headers),
    now,
  );
  return parseDecision(gate, answer);
}

// Per gate: identities by the key the core gives a verified token's identity
// (`identity_key`, never reused), so an identity crosses from wasm and is
// parsed once; later answers for the same token carry only the key. Frozen
// (shared by every request with that token). Bounded by count and by the
// bytes of their JSON (the parsed objects take a small multiple of it,
// docs/memory.md): past either, the map starts afresh.
const identities = new WeakMap<Gate, { byKey: Map<number, Identity>; jsonBytes: number }>();
const IDENTITIES_MAX = 1024;
const IDENTITIES_MAX_JSON_BYTES = 2 * 1024 * 1024;

function parseDecision(gate: Gate, answer: string): Decision {
  const d = JSON.parse(answer) as Decision & { identity_key?: number };
  if (!d.ok) return d;
  if (d.identity_key === undefined) {
    deepFreeze(d.identity); // API-key and `none` identities: built per request, frozen alike
    return d;
  }
  let known = identities.get(gate);
  if (!known) identities.set(gate, known = { byKey: new Map(), jsonBytes: 0 });
  let identity = known.byKey.get(d.identity_key);
  if (!identity) {
    const json = gate.identityJson();
    if (json === undefined) throw new Error("edgeguard: the core named an identity it did not keep");
    identity = JSON.parse(json) as Identity;
    deepFreeze(identity);
    if (known.byKey.size >= IDENTITIES_MAX || known.jsonBytes + json.length > IDENTITIES_MAX_JSON_BYTES) {
      known.byKey.clear();
      known.jsonBytes = 0;
    }
    known.byKey.set(d.identity_key, identity);
    known.jsonBytes += json.length;
  }
  delete d.identity_key;
  d.identity = identity;
  return d;
}

function deepFreeze(v: unknown): void {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
}

// `issuerUrl`: a third-party issuer's JWKS the core named (docs/issuers.md); absent: Supabase Auth's.
async function loadJwks(gate: Gate, now: number, issuerUrl?: string): Promise<void> {
  const url = issuerUrl ?? gate.jwksUrl();
  if (!url) return;
  try {
    const { text, maxAge } = await fetchJwks(url, gate.jwksMaxBytes());
    gate.setJwks(text, maxAge, now, issuerUrl);
  } catch (e) {
    gate.jwksFetchFailed(now, issuerUrl);
    log("warn", "edgeguard: JWKS fetch failed", { reason: e instanceof Error ? e.message : "unknown" });
  }
}

// The headers the policy reads a tenant from (the core names them, usually
// none), as a JSON object; credentials travel as their own arguments.
const tenantHeaderNames = new WeakMap<Gate, string[]>();

function tenantHeaders(gate: Gate, headers: Headers): string {
  let names = tenantHeaderNames.get(gate);
  if (!names) tenantHeaderNames.set(gate, names = JSON.parse(gate.tenantHeaderNames()) as string[]);
  if (names.length === 0) return "{}";
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = headers.get(name);
    if (v !== null) out[name] = v;
  }
  return JSON.stringify(out);
}
