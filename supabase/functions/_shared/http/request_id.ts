// The request id every response and log line carries.
import { loadWasm } from "../runtime/load_wasm.ts";

/** Returns a fresh request id. */
export function newRequestId(): string {
  return crypto.randomUUID();
}

/**
 * The id for `req`: its `x-request-id` when the core finds it well formed
 * (1 to 128 of `[A-Za-z0-9._-]`, safe to echo anywhere), else a fresh one.
 */
export function requestIdFor(req: Request): string {
  const incoming = req.headers.get("x-request-id");
  if (incoming !== null) {
    try {
      if (loadWasm().requestIdOk(incoming)) return incoming;
    } catch {
      // wasm unavailable: never echo an unchecked value
    }
  }
  return newRequestId();
}
