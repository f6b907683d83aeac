// GET /sales-assistant/:tenant_id/usage: the tenant's plan, quota, used and
// remaining units this month, and when they reset; read as the caller under
// RLS (private.usage_status returns nothing to a non-member).
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

interface Status {
  plan: string;
  quota: string;
  used: string;
  remaining: string;
  period_start: Date;
  reset_at: Date;
}

/** The usage of `tenantId` this month. */
export async function readUsage(caller: Caller, tenantId: string) {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<Status[]>`select plan, quota, used, remaining, period_start, reset_at
      from private.usage_status(${tenantId}::uuid)`, caller);
  if (!row) throw new GuardError("FORBIDDEN", "not a member of this tenant");
  return {
    tenant_id: tenantId,
    plan: row.plan,
    quota: Number(row.quota),
    used: Number(row.used),
    remaining: Number(row.remaining),
    period_start: new Date(row.period_start).toISOString(),
    reset_at: new Date(row.reset_at).toISOString(),
  };
}
