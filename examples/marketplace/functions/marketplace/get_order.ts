// GET /marketplace/:tenant_id/orders/:order_id: one order, 404 when RLS hides
// it (someone else's order looks exactly like a missing one).
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { type OrderRow, toOrder } from "./order.ts";

/** The order, if the caller may see it. */
export async function getOrder(caller: Caller, tenantId: string, orderId: string) {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<OrderRow[]>`select * from public.orders where tenant_id = ${tenantId}::uuid and id = ${orderId}::uuid`, caller);
  if (!row) throw new GuardError("NOT_FOUND", "no such order");
  return toOrder(row);
}
