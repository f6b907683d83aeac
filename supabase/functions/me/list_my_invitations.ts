// GET /me/invitations: the invitations addressed to the caller (by user id, or
// by their confirmed email address), newest first, read as the caller under
// RLS. A tenant admin's own tenant's invitations are not "theirs": the filter
// keeps only those whose invitee is the caller. A pending invitation past its
// expiry is listed as `expired`.
import { asUser, type Claims, type RequestContext } from "../_shared/db/db.ts";

/** One invitation as its invitee sees it. */
export interface MyInvitation {
  id: string;
  tenant_id: string;
  role: string;
  status: "pending" | "expired" | "accepted" | "declined" | "revoked";
  invited_by: string | null;
  created_at: string;
  expires_at: string;
}

/** The caller's invitations (at most 100). */
export async function listMyInvitations(claims: Claims, ctx: RequestContext) {
  const rows = await asUser(claims, (sql) =>
    sql<MyInvitation[]>`
      select i.id, i.tenant_id, i.role,
             case when i.status = 'pending' and i.expires_at <= now() then 'expired' else i.status end as status,
             i.invited_by, i.created_at, i.expires_at
      from public.tenant_invitations i
      where i.invitee_user_id = (select auth.uid())
         or i.invitee_email = (select private.caller_verified_email())
      order by i.created_at desc, i.id
      limit 100`, ctx);
  return {
    invitations: rows.map((r) => ({
      ...r,
      created_at: new Date(r.created_at).toISOString(),
      expires_at: new Date(r.expires_at).toISOString(),
    })),
  };
}
