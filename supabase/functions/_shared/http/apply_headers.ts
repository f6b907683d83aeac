// The headers every response gets, errors included: the core's header set
// for the request's Origin (security headers, CORS headers for an allowed
// Origin, names to remove such as `Server`), the request's RateLimit headers
// and `x-request-id`.
import type { ResponseHeaders } from "../wasm/edgeguard_wasm.js";

/** A header list as the core gives it. */
export type HeaderPairs = [string, string][];

/**
 * Returns `response` with the headers applied: the handler's own Response
 * when its headers are mutable, else a copy (fetched and redirect responses
 * are immutable).
 */
export function applyHeaders(
  response: Response,
  plan: ResponseHeaders,
  extra: HeaderPairs,
  requestId: string,
): Response {
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

function apply(headers: Headers, plan: ResponseHeaders, extra: HeaderPairs, requestId: string): void {
  for (const name of plan.remove) headers.delete(name);
  for (const [name, value] of plan.set) headers.set(name, value);
  for (const v of plan.vary) appendVary(headers, v);
  for (const [name, value] of extra) headers.set(name, value);
  headers.set("x-request-id", requestId);
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
