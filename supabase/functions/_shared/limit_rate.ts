// The in-isolate rate limit (GCRA in wasm): what the core needs to know about
// a request, and its verdict.
import { parseAnswer, type Answer, type HeaderPairs } from "./wasm_answer.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/** Who is calling, as far as limits are concerned (all optional). */
export interface Caller {
  userId?: string | null;
  apiKeyId?: string | null;
  tenantId?: string | null;
  role?: string | null;
}

/** What the core's limiter reads (`Facts` in crates/edgeguard-core/src/ratelimit.rs). */
export interface LimitFacts {
  headers: Record<string, string>;
  remote_addr?: string;
  user_id?: string;
  api_key_id?: string;
  tenant_id?: string;
  role?: string;
}

/** One check the Postgres limiter must run. */
export interface GlobalCheck {
  rule: string;
  key: string;
  limit: number;
  window_s: number;
}

/** The core's decision (`LimitDecision`), passed back to it unchanged. */
export interface LimitDecision {
  allowed: boolean;
  retry_after_s: number;
  exceeded: string | null;
  record_event: boolean;
  policies: unknown[];
  global: GlobalCheck[];
  /** Once per isolate: why an IP rule had no trustworthy client IP (for one log line). */
  ip_note?: string;
}

/** A verdict: allowed or a 429 refusal; both carry the decision and its headers. */
export type LimitVerdict = Answer<{ decision: LimitDecision; headers: HeaderPairs }> & {
  decision?: LimitDecision;
};

/** The headers the core reads the client IP from (which one counts is policy). */
const IP_HEADERS = ["x-forwarded-for", "cf-connecting-ip", "x-real-ip"];

/** The facts of `req`: IP headers, peer address and the verified caller, if any. */
export function limitFacts(req: Request, remoteAddr?: string, caller: Caller = {}): LimitFacts {
  const facts: LimitFacts = { headers: {} };
  for (const name of IP_HEADERS) {
    const v = req.headers.get(name);
    if (v !== null) facts.headers[name] = v;
  }
  if (remoteAddr) facts.remote_addr = remoteAddr;
  if (caller.userId) facts.user_id = caller.userId;
  if (caller.apiKeyId) facts.api_key_id = caller.apiKeyId;
  if (caller.tenantId) facts.tenant_id = caller.tenantId;
  if (caller.role) facts.role = caller.role;
  return facts;
}

/** Checks (and counts) the local rules of `route`; lists the global checks still to run. */
export function limitLocal(h: Hardening, route: string, facts: LimitFacts, nowMs = Date.now()): LimitVerdict {
  return parseAnswer(h.limitLocal(route, JSON.stringify(facts), nowMs)) as LimitVerdict;
}

const exemptVerdicts = new WeakMap<Hardening, Map<string, LimitVerdict>>();

/**
 * `limitLocal` for guard(): the facts are built only when the route counts.
 * For a route the core marks exempt its answer does not depend on the request
 * (allowed, no headers, nothing counted), so it is asked once per route and
 * isolate and reused (frozen).
 */
export function limitRoute(h: Hardening, route: string, facts: () => LimitFacts, nowMs = Date.now()): LimitVerdict {
  if (!h.limitsExempt(route)) return limitLocal(h, route, facts(), nowMs);
  let m = exemptVerdicts.get(h);
  if (!m) exemptVerdicts.set(h, m = new Map());
  let v = m.get(route);
  if (!v) {
    v = deepFreeze(limitLocal(h, route, facts(), nowMs));
    if (m.size >= 256) m.clear();
    m.set(route, v);
  }
  return v;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
