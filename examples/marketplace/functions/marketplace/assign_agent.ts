// PUT /marketplace/:tenant_id/orders/:order_id/agent {"agent_id"}: an admin
// assigns the order to an agent of the tenant (or unassigns it with null).
// The agent must hold `agent` or above in this tenant; RLS admits only the
// tenant's admins. Audited with the admin as actor.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { type OrderRow, toOrder } from "./order.ts";

/** Sets assigned_agent_id as the caller. */
export async function assignAgent(caller: Caller, tenantId: string, orderId: string, agentId: string | null) {
  const outcome = await asUser(caller.claims, async (sql) => {
    if (agentId !== null) {
      const [agent] = await sql<{ ok: boolean }[]>`
        select true as ok from public.tenant_members m join public.roles r on r.name = m.role
        where m.tenant_id = ${tenantId}::uuid and m.user_id = ${agentId}::uuid
          and r.rank >= (select rank from public.roles where name = 'agent')`;
      if (!agent) return { refused: new GuardError("VALIDATION_FAILED", "agent_id is not an agent of this tenant") };
    }
    const [row] = await sql<OrderRow[]>`update public.orders set assigned_agent_id = ${agentId}::uuid
      where tenant_id = ${tenantId}::uuid and id = ${orderId}::uuid returning *`;
    if (!row) return { refused: new GuardError("NOT_FOUND", "no such order") };
    return { order: toOrder(row) };
  }, caller);
  if ("refused" in outcome) throw outcome.refused;
  return outcome.order;
}
