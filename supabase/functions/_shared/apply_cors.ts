// CORS preflight: answered from the core's allow-list without running the handler.
import { respondError } from "./respond_error.ts";
import { parseAnswer, type HeaderPairs } from "./wasm_answer.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/** Whether `req` is a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`). */
export function isPreflight(req: Request): boolean {
  return req.method === "OPTIONS" && req.headers.has("origin") &&
    req.headers.has("access-control-request-method");
}

/** The 204 answer with the allow headers, or 403 `ORIGIN_NOT_ALLOWED`. */
export function answerPreflight(h: Hardening, req: Request, requestId: string): Response {
  const a = parseAnswer<{ status: number; headers: HeaderPairs }>(h.preflight(
    req.headers.get("origin"),
    req.headers.get("access-control-request-method"),
    req.headers.get("access-control-request-headers"),
  ));
  if (!a.ok) {
    return respondError(a.code, { requestId, reason: a.reason, headers: a.headers });
  }
  const headers = new Headers(a.headers);
  headers.set("x-request-id", requestId);
  return new Response(null, { status: a.status, headers });
}
