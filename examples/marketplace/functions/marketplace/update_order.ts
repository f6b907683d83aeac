// PATCH /marketplace/:tenant_id/orders/:order_id {"status", "note"}: an agent
// moves an order assigned to them along; an admin any order of the tenant.
// RLS decides: an order the caller may not update is answered 404 like a
// missing one. Audited with the caller as actor.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { type OrderRow, toOrder } from "./order.ts";

/** The body, checked against policy.json's schema by the core. */
export interface OrderUpdate {
  status: string;
  note?: string;
}

/** Updates status (and note) as the caller. */
export async function updateOrder(caller: Caller, tenantId: string, orderId: string, body: OrderUpdate) {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<OrderRow[]>`update public.orders
      set status = ${body.status}, note = coalesce(${body.note ?? null}::text, note)
      where tenant_id = ${tenantId}::uuid and id = ${orderId}::uuid
      returning *`, caller);
  if (!row) throw new GuardError("NOT_FOUND", "no such order among those you may update");
  return toOrder(row);
}
