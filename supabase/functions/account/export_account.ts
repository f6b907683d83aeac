// GET /account/export: every row about the caller as one JSON document,
// built by private.account_export in one query (as the service: a user cannot
// read the audit log under RLS), and an `account.exported` audit event in the
// same transaction.
import { asAdmin } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The export as a JSON download. */
export async function exportAccount(caller: Caller): Promise<Response> {
  const doc = await asAdmin(async (sql) => {
    const [row] = await sql<{ doc: string | null }[]>`
      select private.account_export(${caller.userId}::uuid)::text as doc`;
    if (!row?.doc) return null;
    await sql`select private.audit_event(null, 'account.exported', jsonb_build_object('user_id', ${caller.userId}::uuid))`;
    return row.doc;
  }, { actorClaims: caller.claims, requestId: caller.requestId, clientIp: caller.clientIp, userAgent: caller.userAgent });
  if (!doc) throw new GuardError("NOT_FOUND", "no such user");
  return new Response(doc, {
    headers: {
      "content-type": "application/json",
      "content-disposition": 'attachment; filename="account-export.json"',
      "cache-control": "no-store",
    },
  });
}
