// GET /services-platform/:tenant_id/bookings: customers see their own,
// providers those of their services, moderators and admins all (RLS decides).
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** A booking as the API shows it. */
export interface Booking {
  id: string;
  service_id: string;
  customer: string;
  provider: string;
  note: string;
}

/** The bookings RLS lets the caller see, newest first (at most 100). */
export async function listBookings(caller: Caller, tenant: string): Promise<Booking[]> {
  const rows = await asUser(caller.claims, (sql) =>
    sql<{ id: string; service_id: string; customer_sub: string; provider_sub: string; note: string }[]>`
      select id, service_id, customer_sub, provider_sub, note from public.bookings
      where tenant_key = ${tenant} order by created_at desc limit 100`, caller);
  return rows.map((r) => ({ id: r.id, service_id: r.service_id, customer: r.customer_sub, provider: r.provider_sub, note: r.note }));
}
