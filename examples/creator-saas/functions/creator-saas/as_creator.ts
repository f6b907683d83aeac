// Runs work as the creator under RLS, after provisioning their creator row:
// the first authenticated call of a user (token or API key) creates it, as the
// user (the insert policy admits only their own auth.uid()). Idempotent: ON
// CONFLICT DO NOTHING, so concurrent first calls create one row and the audit
// log records one INSERT, with the user as actor and the client IP.
import { asUser, DatabaseError, type Tx } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** Runs `fn` as the caller; `created` tells whether this call created the creator row. */
export async function asCreator<T>(caller: Caller, fn: (sql: Tx, created: boolean) => Promise<T>): Promise<T> {
  const name = typeof caller.claims.email === "string" ? caller.claims.email.split("@")[0].slice(0, 100) || null : null;
  try {
    return await asUser(caller.claims, async (sql) => {
      const inserted = await sql`insert into public.creators (id, display_name) values ((select auth.uid()), ${name})
        on conflict (id) do nothing returning id`;
      return await fn(sql, inserted.length > 0);
    }, caller);
  } catch (e) {
    // 23503: a verified token whose user has no auth.users row (deleted account)
    if (e instanceof DatabaseError && (e.sqlstate === "23503" || e.sqlstate === "22P02")) {
      throw new GuardError("FORBIDDEN", "no account for this user");
    }
    throw e;
  }
}
