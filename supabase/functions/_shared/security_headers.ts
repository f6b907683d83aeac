// The headers every response gets, errors included: the core's security
// headers and CORS headers for the request's Origin, the rate-limit headers
// of the request, and `x-request-id`. `Server` and `X-Powered-By` are dropped.
import { parseAnswer, type HeaderPairs } from "./wasm_answer.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/** Returns `response` with the headers applied (a copy: fetched responses are immutable). */
export function applySecurityHeaders(
  response: Response,
  h: Hardening,
  req: Request,
  requestId: string,
  extra: HeaderPairs = [],
): Response {
  const out = new Response(response.body, response);
  const a = parseAnswer<{ headers: HeaderPairs; remove: string[] }>(h.responseHeaders(req.headers.get("origin")));
  if (a.ok) {
    for (const name of a.remove) out.headers.delete(name);
    for (const [name, value] of a.headers) {
      if (name.toLowerCase() === "vary") appendVary(out.headers, value);
      else out.headers.set(name, value);
    }
  }
  for (const [name, value] of extra) out.headers.set(name, value);
  out.headers.set("x-request-id", requestId);
  return out;
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
