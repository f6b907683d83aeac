// POST /marketplace/:tenant_id/orders {"total_cents", "currency", "note"}: a
// customer places an order for themself (RLS: own id, own tenant; column
// grants leave status and assignee at their defaults). Audited.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";
import { type OrderRow, toOrder } from "./order.ts";

/** The body, checked against policy.json's schema by the core. */
export interface NewOrder {
  total_cents: number;
  currency?: string;
  note?: string;
}

/** Inserts the order as the caller. */
export async function placeOrder(caller: Caller, tenantId: string, body: NewOrder) {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<OrderRow[]>`insert into public.orders (tenant_id, customer_id, total_cents, currency, note)
      values (${tenantId}::uuid, ${String(caller.claims.sub)}::uuid, ${body.total_cents}, ${body.currency ?? "EUR"}, ${body.note ?? ""})
      returning *`, caller);
  return toOrder(row);
}
