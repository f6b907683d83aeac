// DELETE /admin-users/invitations/:invitation_id: an admin of the caller's
// tenant revokes a pending invitation of that tenant (the record stays, marked
// revoked). As the caller under RLS: an invitation of another tenant, or one
// that is no longer pending, is 404 NOT_FOUND like an unknown id.
import { asUser, DatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** Revokes invitation `id` of `tenantId`. */
export async function revokeInvitation(caller: Caller, tenantId: string | null, id: string): Promise<void> {
  if (!tenantId) throw new GuardError("FORBIDDEN", "the token names no tenant");
  const notFound = () => new GuardError("NOT_FOUND", "no pending invitation with this id in this tenant");
  try {
    const found = await asUser(caller.claims, async (sql) => {
      const [row] = await sql`select 1 from public.tenant_invitations where id = ${id} and tenant_id = ${tenantId}`;
      if (!row) return false;
      await sql`select public.revoke_tenant_invitation(${id})`;
      return true;
    }, caller);
    if (!found) throw notFound();
  } catch (e) {
    // P0002: not pending any more, or the caller is not an admin of its tenant
    if (e instanceof DatabaseError && e.sqlstate === "P0002") throw notFound();
    throw e;
  }
}
