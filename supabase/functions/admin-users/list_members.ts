// GET /admin-users/:tenant_id/members[?limit=&offset=]: the tenant's members,
// highest role first, read as the caller under RLS (members see co-members).
import { asUser } from "../_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** One member as listed. */
export interface Member {
  user_id: string;
  role: string;
  display_name: string | null;
  joined_at: string;
  updated_at: string;
}

/** Lists the members of `tenantId` (the query was validated by the core: integers in range). */
export async function listMembers(caller: Caller, tenantId: string, query: URLSearchParams) {
  const limit = Number(query.get("limit") ?? 100);
  const offset = Number(query.get("offset") ?? 0);
  const rows = await asUser(caller.claims, (sql) =>
    sql<Member[]>`
      select m.user_id, m.role, p.display_name, m.created_at as joined_at, m.updated_at
      from public.tenant_members m
      join public.roles r on r.name = m.role
      left join public.profiles p on p.id = m.user_id
      where m.tenant_id = ${tenantId}
      order by r.rank desc, m.created_at, m.user_id
      limit ${limit} offset ${offset}`, caller);
  return {
    tenant_id: tenantId,
    members: rows.map((r) => ({
      ...r,
      joined_at: new Date(r.joined_at).toISOString(),
      updated_at: new Date(r.updated_at).toISOString(),
    })),
    limit,
    offset,
  };
}
