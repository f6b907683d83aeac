// POST /me/invitations/:invitation_id/decline: the invitee declines a pending
// invitation (public.decline_tenant_invitation, as the caller). An unknown id,
// someone else's invitation and one already decided are the same 404.
import { asUser, type Claims, DatabaseError, type RequestContext } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";

/** Declines invitation `id` for the caller. */
export async function declineInvitation(claims: Claims, ctx: RequestContext, id: string): Promise<void> {
  try {
    await asUser(claims, (sql) => sql`select public.decline_tenant_invitation(${id})`, ctx);
  } catch (e) {
    if (e instanceof DatabaseError && e.sqlstate === "P0002") {
      throw new GuardError("NOT_FOUND", "no pending invitation with this id");
    }
    throw e;
  }
}
