// POST /me/invitations/:invitation_id/accept: the invitee joins the tenant
// with the offered role (public.accept_tenant_invitation, as the caller: the
// database checks that the invitation is pending, unexpired and addressed to
// the caller). An unknown id, someone else's invitation and one already used
// are the same 404. The new tenant appears in the caller's next access token.
import { asUser, type Claims, DatabaseError, type RequestContext } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";

/** The membership the acceptance created. */
export interface Joined {
  invitation_id: string;
  tenant_id: string;
  role: string;
}

/** Accepts invitation `id` for the caller. */
export async function acceptInvitation(claims: Claims, ctx: RequestContext, id: string): Promise<Joined> {
  try {
    const [row] = await asUser(claims, (sql) =>
      sql<{ tenant_id: string; role: string }[]>`
        select tenant_id, role from public.accept_tenant_invitation(${id})`, ctx);
    return { invitation_id: id, tenant_id: row.tenant_id, role: row.role };
  } catch (e) {
    if (e instanceof DatabaseError && e.sqlstate === "P0002") {
      throw new GuardError("NOT_FOUND", "no pending invitation with this id");
    }
    // 23505: already a member of that tenant (the invitation stays pending; decline it)
    if (e instanceof DatabaseError && e.sqlstate === "23505") {
      throw new GuardError("VALIDATION_FAILED", "already a member of this tenant");
    }
    throw e;
  }
}
