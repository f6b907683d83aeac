// The headers every response gets, errors included: the core's security
// headers and CORS headers for the request's Origin, the rate-limit headers
// of the request, and `x-request-id`. `Server` and `X-Powered-By` are dropped.
import { parseAnswer, type HeaderPairs } from "./wasm_answer.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/**
 * Returns `response` with the headers applied: the handler's own Response
 * when its headers are mutable, else a copy (fetched and redirect responses
 * are immutable).
 */
export function applySecurityHeaders(
  response: Response,
  h: Hardening,
  req: Request,
  requestId: string,
  extra: HeaderPairs = [],
): Response {
  const plan = planFor(h, req.headers.get("origin"));
  try {
    apply(response.headers, plan, extra, requestId);
    return response;
  } catch (e) {
    // Immutable headers throw on the first change, before anything changed.
    if (!(e instanceof TypeError)) throw e;
  }
  const out = new Response(response.body, response);
  apply(out.headers, plan, extra, requestId);
  return out;
}

/** The core's answer for one Origin, split once into what to remove, set and merge into Vary. */
interface Plan {
  remove: string[];
  set: HeaderPairs;
  vary: string[];
}

function apply(headers: Headers, plan: Plan, extra: HeaderPairs, requestId: string): void {
  for (const name of plan.remove) headers.delete(name);
  for (const [name, value] of plan.set) headers.set(name, value);
  for (const v of plan.vary) appendVary(headers, v);
  for (const [name, value] of extra) headers.set(name, value);
  headers.set("x-request-id", requestId);
}

/** The core's answer depends only on the configuration and the Origin: memoised per both (bounded). */
const memo = new WeakMap<Hardening, Map<string | null, Plan>>();
const MEMO_MAX = 256;
const NO_HEADERS: Plan = { remove: [], set: [], vary: [] };

function planFor(h: Hardening, origin: string | null): Plan {
  let m = memo.get(h);
  if (!m) memo.set(h, m = new Map());
  let plan = m.get(origin);
  if (!plan) {
    const a = parseAnswer<{ headers: HeaderPairs; remove: string[] }>(h.responseHeaders(origin));
    plan = a.ok
      ? {
        remove: a.remove,
        set: a.headers.filter(([n]) => n.toLowerCase() !== "vary"),
        vary: a.headers.filter(([n]) => n.toLowerCase() === "vary").map(([, v]) => v),
      }
      : NO_HEADERS;
    if (m.size >= MEMO_MAX) m.clear();
    m.set(origin, plan);
  }
  return plan;
}

function appendVary(headers: Headers, value: string) {
  const have = (headers.get("vary") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (have.includes("*")) return;
  for (const v of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!have.includes(v.toLowerCase())) {
      headers.append("vary", v);
      have.push(v.toLowerCase());
    }
  }
}
