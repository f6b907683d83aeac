// GET /sales-assistant/:tenant_id/leads: the tenant's leads, newest first, as
// the caller under RLS (moderators and admins of the tenant; the policy's
// leads:read grant says the same before the database is asked).
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** Up to `?limit=` (default 50) leads of `tenantId`. */
export async function listLeads(caller: Caller, tenantId: string, query: URLSearchParams) {
  const limit = Number(query.get("limit") ?? "50");
  const rows = await asUser(caller.claims, (sql) =>
    sql<{ id: string; email: string; name: string; message: string; created_at: Date }[]>`
      select id, email, name, message, created_at from public.sales_leads
      where tenant_id = ${tenantId}::uuid
      order by created_at desc limit ${limit}`, caller);
  return { leads: rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })) };
}
