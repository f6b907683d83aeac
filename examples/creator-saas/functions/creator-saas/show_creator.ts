// GET /creator-saas/me: the caller's creator row (created on the first call),
// with the plan and subscription state the Stripe webhook set. Runs as the
// caller under RLS, also for an API key (its owner).
import type { Caller } from "./caller.ts";
import { asCreator } from "./as_creator.ts";

/** The creator row the caller sees, and whether this call created it. */
export async function showCreator(caller: Caller) {
  return await asCreator(caller, async (sql, created) => {
    const [creator] = await sql`select id, display_name, plan, subscription_status, stripe_customer_id, created_at
                                from public.creators where id = (select auth.uid())`;
    return { creator, created, via: caller.via };
  });
}
