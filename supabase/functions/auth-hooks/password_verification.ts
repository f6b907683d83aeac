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
import type { Sql } from "../_shared/db/connect_postgres.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { HookAnswer } from "./answer_once.ts";

export const MAX_FAILURES = 5;
export const WINDOW_S = 900;
export const LOCKOUT_S = 900;
export const LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again later.";

export interface PasswordAttemptEvent {
  user_id: string;
  valid: boolean;
}

/** The hook's answer for `event` (already verified and schema-checked). */
export async function passwordVerification(sql: Sql, event: PasswordAttemptEvent, requestId: string): Promise<HookAnswer> {
  let rows;
  try {
    // One statement: the attempt, and for a rejection a security event
    // (`password_lockout`, the user as actor; no password data exists here).
    rows = await sql`
      with attempt as (
        select a.decision, a.failed_count, a.locked_until
        from private.password_attempt(${event.user_id}::uuid, ${event.valid}, ${MAX_FAILURES}, ${WINDOW_S}, ${LOCKOUT_S}) a
      ), logged as (
        insert into public.security_events (event_type, severity, actor_id, request_id, details)
        select 'password_lockout', 'warning', ${event.user_id}::uuid, ${requestId},
               jsonb_build_object('failed_count', a.failed_count, 'locked_until', a.locked_until, 'valid', ${event.valid}::boolean)
        from attempt a where a.decision = 'reject'
        returning 1
      )
      select decision from attempt`;
  } catch (e) {
    // 23503: no such user in auth.users (Supabase Auth only asks about real users).
    if ((e as { code?: string }).code === "23503") throw new GuardError("INVALID_BODY", "unknown user");
    throw e;
  }
  if (rows[0]?.decision === "reject") {
    return { status: 200, body: { decision: "reject", message: LOCKED_MESSAGE, should_logout_user: false } };
  }
  return { status: 200, body: { decision: "continue" } };
}
