// GET /services-platform/:tenant_id/services: the services of the caller's
// tenant (RLS: same issuer, same tenant id).
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** A service as the API shows it. */
export interface Service {
  id: string;
  title: string;
  price_cents: number;
  provider: string;
}

/** The tenant's services, newest first (at most 100). */
export async function listServices(caller: Caller, tenant: string): Promise<Service[]> {
  const rows = await asUser(caller.claims, (sql) =>
    sql<{ id: string; title: string; price_cents: string; provider_sub: string }[]>`
      select id, title, price_cents, provider_sub from public.services
      where tenant_key = ${tenant} order by created_at desc limit 100`, caller);
  return rows.map((r) => ({ id: r.id, title: r.title, price_cents: Number(r.price_cents), provider: r.provider_sub }));
}
