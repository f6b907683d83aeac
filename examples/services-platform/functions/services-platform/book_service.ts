// POST /services-platform/:tenant_id/bookings {"service_id", "note"}: a
// customer books a service of their tenant for themself (RLS: the service
// must be visible in the same tenant; 404 otherwise). Audited.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The body, checked against policy.json's schema by the core. */
export interface NewBooking {
  service_id: string;
  note?: string;
}

/** Inserts the booking as the caller; returns its id. */
export async function bookService(caller: Caller, tenant: string, body: NewBooking): Promise<{ id: string }> {
  const rows = await asUser(caller.claims, (sql) =>
    sql<{ id: string }[]>`insert into public.bookings (tenant_key, service_id, provider_sub, customer_sub, note)
      select s.tenant_key, s.id, s.provider_sub, ${String(caller.claims.sub)}, ${body.note ?? ""}
      from public.services s where s.id = ${body.service_id}::uuid and s.tenant_key = ${tenant}
      returning id`, caller);
  if (rows.length === 0) throw new GuardError("NOT_FOUND", "no such service");
  return rows[0];
}
