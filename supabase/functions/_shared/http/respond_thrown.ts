// The response for an error a handler (or the I/O of a step) throws: a
// GuardError's SPEC code, a database error by its one classification
// (db/database_error.ts: unavailable → 503 UNAVAILABLE, misconfigured → 500
// MISCONFIGURED), anything else 500 INTERNAL. Never the error's message,
// stack or driver detail; one log line with a safe code.
import { DatabaseMisconfigured, DatabaseUnavailable, errorCode, toDatabaseError } from "../db/database_error.ts";
import { log } from "../runtime/log.ts";
import { GuardError, respondError } from "./respond_error.ts";

/** The error response for `e` of request `requestId` (hints only outside production). */
export function respondThrown(e: unknown, requestId: string, production: boolean): Response {
  e = toDatabaseError(e);
  if (e instanceof DatabaseUnavailable) {
    log("error", "edgeguard: database unavailable", { request_id: requestId, error: e.reason });
    return respondError("UNAVAILABLE", { requestId, production });
  }
  if (e instanceof DatabaseMisconfigured) {
    log("error", "edgeguard: SUPABASE_DB_URL is not a postgres:// URL", { request_id: requestId });
    return respondError("MISCONFIGURED", { requestId, reason: "SUPABASE_DB_URL is not set", production });
  }
  if (e instanceof GuardError) {
    if (e.code === "MISCONFIGURED") logMisconfiguredOnce(e.reason);
    return respondError(e.code, { requestId, reason: e.reason, details: e.details, headers: e.headers, production });
  }
  log("error", "edgeguard: handler failed", { request_id: requestId, error: errorCode(e) });
  return respondError("INTERNAL", { requestId, production });
}

// One log line per distinct misconfiguration reason (a route that cannot be
// served says why once, not on every request).
const loggedMisconfigured = new Set<string>();

function logMisconfiguredOnce(reason: string | undefined): void {
  const key = reason ?? "";
  if (loggedMisconfigured.has(key) || loggedMisconfigured.size > 64) return;
  loggedMisconfigured.add(key);
  log("error", "edgeguard: route misconfigured", { reason: reason ?? null });
}
