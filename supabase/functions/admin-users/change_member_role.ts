// PATCH /admin-users/:tenant_id/members/:user_id {"role": "..."}: changes a
// member's role as the caller under RLS. The tenant_members update policy
// admits admins of the tenant and never one's own membership; the audit
// trigger logs the change with the caller as actor in the same transaction.
import { asUser } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The member after the change. */
export interface ChangedMember {
  tenant_id: string;
  user_id: string;
  role: string;
  previous_role: string;
  updated_at: string;
}

/** Sets the role of `userId` in `tenantId` (`body.role` was checked against the ladder by the core). */
export async function changeMemberRole(caller: Caller, tenantId: string, userId: string, body: { role: string }) {
  const outcome: { changed: ChangedMember } | { refused: GuardError } = await asUser(caller.claims, async (sql) => {
    const [before] = await sql<{ role: string }[]>`
      select role from public.tenant_members
      where tenant_id = ${tenantId} and user_id = ${userId}`;
    if (!before) return { refused: new GuardError("NOT_FOUND", "no such member in this tenant") };
    const [after] = await sql<{ role: string; updated_at: Date }[]>`
      update public.tenant_members set role = ${body.role}
      where tenant_id = ${tenantId} and user_id = ${userId}
      returning role, updated_at`;
    if (!after) {
      const self = caller.claims.sub === userId;
      return {
        refused: new GuardError("FORBIDDEN", self ? "admins cannot change their own role" : "not an admin of this tenant"),
      };
    }
    return {
      changed: {
        tenant_id: tenantId,
        user_id: userId,
        role: after.role,
        previous_role: before.role,
        updated_at: new Date(after.updated_at).toISOString(),
      },
    };
  }, caller);
  if ("refused" in outcome) throw outcome.refused;
  return outcome.changed;
}
