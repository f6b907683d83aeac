// DELETE /services-platform/:tenant_id/services/:service_id: a moderator (or
// admin) takes a service down; 404 when RLS hides it. Audited.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** Deletes the service as the caller. */
export async function removeService(caller: Caller, tenant: string, id: string): Promise<void> {
  const rows = await asUser(caller.claims, (sql) =>
    sql`delete from public.services where id = ${id}::uuid and tenant_key = ${tenant} returning id`, caller);
  if (rows.length === 0) throw new GuardError("NOT_FOUND", "no such service");
}
