// POST /admin-users/invitations {"email": "..."} or {"user_id": "..."}, and
// "role": invites someone into the caller's tenant (the token's tenant_id, in
// which the core checked the admin role), as the caller under RLS. The insert
// policy admits admins of that tenant offering at most their own role; the
// database never looks the invitee up, so the answer is the same whether such
// a user exists or not (docs/database.md, "Tenant invitations").
import { asUser, DatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The body, checked against the route's schema by the core. */
export interface InvitationRequest {
  email?: string;
  user_id?: string;
  role: string;
}

/** The created invitation; nothing in it depends on whether the invitee exists. */
export interface CreatedInvitation {
  id: string;
  tenant_id: string;
  role: string;
  status: "pending";
  expires_at: string;
}

/** Invites `body.email` or `body.user_id` into `tenantId` with `body.role`. */
export async function inviteMember(caller: Caller, tenantId: string | null, body: InvitationRequest): Promise<CreatedInvitation> {
  if (!tenantId) throw new GuardError("FORBIDDEN", "the token names no tenant");
  try {
    const [row] = await asUser(caller.claims, (sql) =>
      sql<{ id: string; expires_at: Date }[]>`
        insert into public.tenant_invitations (tenant_id, invitee_user_id, invitee_email, role)
        values (${tenantId}, ${body.user_id ?? null}, ${body.email ?? null}, ${body.role})
        returning id, expires_at`, caller);
    return { id: row.id, tenant_id: tenantId, role: body.role, status: "pending", expires_at: new Date(row.expires_at).toISOString() };
  } catch (e) {
    // 42501: not an admin of the tenant (the database's view), or a role above one's own
    if (e instanceof DatabaseError && e.sqlstate === "42501") {
      throw new GuardError("FORBIDDEN", "not an admin of this tenant, or the role is above your own");
    }
    // 23514: the invitee is given by neither or both of email and user_id
    if (e instanceof DatabaseError && e.sqlstate === "23514") {
      throw new GuardError("VALIDATION_FAILED", "give exactly one of email and user_id");
    }
    throw e;
  }
}
