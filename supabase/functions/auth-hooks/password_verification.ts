// Password verification attempt hook (Supabase Auth, HTTP): input
// `{user_id, valid}`, output `{"decision": "continue"}` or
// `{"decision": "reject", "message": …, "should_logout_user": …}`.
//
// Counting is private.password_attempt (migration 20261123000400), one atomic
// statement per attempt: MAX_FAILURES failed attempts inside WINDOW_S lock the
// user for LOCKOUT_S; while locked every attempt is rejected (a correct
// password too, and it is not counted); a correct password outside a lock
// resets the count.
//
// should_logout_user is false: anyone who knows an e-mail address can fail
// its password on purpose, and logging the real user out of every session on
// their behalf would turn the lockout into a denial of service.
import type { Sql } from "../_shared/connect_postgres.ts";
import { GuardError } from "../_shared/respond_error.ts";

export const MAX_FAILURES = 5;
export const WINDOW_S = 900;
export const LOCKOUT_S = 900;
export const LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again later.";

export interface PasswordAttemptEvent {
  user_id: string;
  valid: boolean;
}

/** The hook's answer for `event` (already verified and schema-checked). */
export async function passwordVerification(sql: Sql, event: PasswordAttemptEvent): Promise<Response> {
  let rows;
  try {
    rows = await sql`select decision from private.password_attempt(
      ${event.user_id}::uuid, ${event.valid}, ${MAX_FAILURES}, ${WINDOW_S}, ${LOCKOUT_S})`;
  } catch (e) {
    // 23503: no such user in auth.users (Supabase Auth only asks about real users).
    if ((e as { code?: string }).code === "23503") throw new GuardError("INVALID_BODY", "unknown user");
    throw e;
  }
  if (rows[0]?.decision === "reject") {
    return Response.json({ decision: "reject", message: LOCKED_MESSAGE, should_logout_user: false });
  }
  return Response.json({ decision: "continue" });
}
