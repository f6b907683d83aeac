// POST /services-platform/:tenant_id/services {"title", "price_cents"}: a
// provider (or above) offers a service as themself (RLS checks the tenant,
// the subject and the role again). Audited.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** The body, checked against policy.json's schema by the core. */
export interface NewService {
  title: string;
  price_cents: number;
}

/** Inserts the service; returns its id. */
export async function offerService(caller: Caller, tenant: string, body: NewService): Promise<{ id: string }> {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<{ id: string }[]>`insert into public.services (tenant_key, provider_sub, title, price_cents)
      values (${tenant}, ${String(caller.claims.sub)}, ${body.title}, ${body.price_cents}) returning id`, caller);
  return row;
}
