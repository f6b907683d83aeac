// GET /creator-saas/admin/creators[?plan=]: every creator with their plan, for
// the SaaS's staff. The core admitted the caller as admin (the policy's top
// rung, held by the e-mails in ADMIN_EMAILS); the database knows nothing of
// ADMIN_EMAILS, so this read runs as the service, with the admin as actor.
import { asAdmin } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** Up to 200 creators, newest first. */
export async function listCreators(caller: Caller, query: URLSearchParams) {
  const plan = query.get("plan");
  const creators = await asAdmin((sql) =>
    sql`select id, display_name, plan, subscription_status, created_at from public.creators
        ${plan ? sql`where plan = ${plan}` : sql``} order by created_at desc, id limit 200`, {
      requestId: caller.requestId, clientIp: caller.clientIp, userAgent: caller.userAgent, actorClaims: caller.claims,
    });
  return { creators };
}
