// POST /sales-assistant/leads (publishable key; the "auth" class: 5/min per
// IP): the public website form posts a lead to a tenant. The body was checked
// by the core (uuid, email, lengths, no other field). Stored by the service;
// the tenant's moderators read it under RLS.
import { asAdmin } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The body, already checked against policy.json's schema by the core. */
export interface LeadRequest {
  tenant_id: string;
  email: string;
  name: string;
  message?: string;
}

/** Inserts the lead; an unknown tenant is 404. */
export async function captureLead(caller: Caller, body: LeadRequest) {
  const [row] = await asAdmin((sql) =>
    sql<{ id: string; created_at: Date }[]>`
      insert into public.sales_leads (tenant_id, email, name, message)
      select t.id, ${body.email}, ${body.name}, ${body.message ?? ""}
      from public.tenants t where t.id = ${body.tenant_id}::uuid
      returning id, created_at`, caller);
  if (!row) throw new GuardError("NOT_FOUND", "no such tenant");
  return { id: row.id, created_at: new Date(row.created_at).toISOString() };
}
