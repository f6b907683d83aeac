// Maps db.ts errors to the SPEC answers: unreachable database -> 503
// UNAVAILABLE, missing SUPABASE_DB_URL -> 500 MISCONFIGURED; anything else is
// returned unchanged (the guard answers 500 INTERNAL without details).
import { DatabaseMisconfigured, DatabaseUnavailable } from "../_shared/db.ts";
import { GuardError } from "../_shared/respond_error.ts";

/** The error to throw for a failed database call. */
export function databaseRefusal(e: unknown): unknown {
  if (e instanceof DatabaseUnavailable) return new GuardError("UNAVAILABLE", "database unavailable");
  if (e instanceof DatabaseMisconfigured) return new GuardError("MISCONFIGURED", "SUPABASE_DB_URL is not set");
  return e;
}
