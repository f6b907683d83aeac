// GET /admin-users/invitations[?limit=&offset=]: the invitations of the
// caller's tenant (the token's tenant_id), newest first, read as the caller
// under RLS (a tenant's admins see its invitations). A pending invitation past
// its expiry is listed as `expired`.
import { asUser } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** One invitation as listed to the tenant's admins. */
export interface TenantInvitation {
  id: string;
  invitee_user_id: string | null;
  invitee_email: string | null;
  role: string;
  status: "pending" | "expired" | "accepted" | "declined" | "revoked";
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
}

/** Lists the invitations of `tenantId` (the query was validated by the core: integers in range). */
export async function listInvitations(caller: Caller, tenantId: string | null, query: URLSearchParams) {
  if (!tenantId) throw new GuardError("FORBIDDEN", "the token names no tenant");
  const limit = Number(query.get("limit") ?? 100);
  const offset = Number(query.get("offset") ?? 0);
  const rows = await asUser(caller.claims, (sql) =>
    sql<TenantInvitation[]>`
      select i.id, i.invitee_user_id, i.invitee_email, i.role,
             case when i.status = 'pending' and i.expires_at <= now() then 'expired' else i.status end as status,
             i.invited_by, i.created_at, i.expires_at,
             coalesce(i.accepted_at, i.declined_at, i.revoked_at) as decided_at
      from public.tenant_invitations i
      where i.tenant_id = ${tenantId}
      order by i.created_at desc, i.id
      limit ${limit} offset ${offset}`, caller);
  const iso = (d: unknown) => (d == null ? null : new Date(d as string).toISOString());
  return {
    tenant_id: tenantId,
    invitations: rows.map((r) => ({ ...r, created_at: iso(r.created_at), expires_at: iso(r.expires_at), decided_at: iso(r.decided_at) })),
    limit,
    offset,
  };
}
