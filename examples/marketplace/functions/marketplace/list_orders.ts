// GET /marketplace/:tenant_id/orders[?status=&limit=]: the orders the caller
// may see, newest first. No role test here: RLS admits a customer's own
// orders, an agent's assigned ones and all of an admin's tenant.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";
import { type OrderRow, toOrder } from "./order.ts";

/** Up to `limit` (default 50) visible orders of `tenantId`. */
export async function listOrders(caller: Caller, tenantId: string, query: URLSearchParams) {
  const status = query.get("status");
  const limit = Number(query.get("limit") ?? "50");
  const rows = await asUser(caller.claims, (sql) =>
    sql<OrderRow[]>`select * from public.orders
      where tenant_id = ${tenantId}::uuid ${status ? sql`and status = ${status}` : sql``}
      order by created_at desc, id limit ${limit}`, caller);
  return { orders: rows.map(toOrder) };
}
