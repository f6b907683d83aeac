// POST /sales-assistant/:tenant_id/chat {"message", "max_tokens"}: charges
// the tenant's monthly quota with the tokens the reply may use, then answers.
// The charge is one atomic statement in SQL (private.charge_usage): exact under
// any concurrency, all or nothing. A spent quota is 429 QUOTA_EXCEEDED with
// the reset time (Retry-After, and details.reset_at outside production).
import { asAdmin } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The body, already checked against policy.json's schema by the core. */
export interface ChatRequest {
  message: string;
  max_tokens: number;
  conversation_id?: string;
}

interface Charge {
  charged: boolean;
  plan: string;
  quota: string;
  used: string;
  remaining: string;
  reset_at: Date;
}

/** Charges `max_tokens` units, then drafts the reply. */
export async function chat(caller: Caller, tenantId: string, body: ChatRequest) {
  const [charge] = await asAdmin((sql) =>
    sql<Charge[]>`select charged, plan, quota, used, remaining, reset_at
      from private.charge_usage(${tenantId}::uuid, ${body.max_tokens}::bigint)`, { ...caller, actorClaims: caller.claims });
  const resetAt = new Date(charge.reset_at);
  const usage = { plan: charge.plan, quota: Number(charge.quota), used: Number(charge.used), remaining: Number(charge.remaining), reset_at: resetAt.toISOString() };
  if (!charge.charged) {
    const retryAfter = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
    throw new GuardError(
      "QUOTA_EXCEEDED",
      `the ${charge.plan} plan's monthly quota leaves ${usage.remaining} units; this request needs ${body.max_tokens}`,
      { ...usage, requested: body.max_tokens },
      [["retry-after", String(retryAfter)]],
    );
  }
  return { reply: draftReply(body.message, body.max_tokens), conversation_id: body.conversation_id ?? crypto.randomUUID(), usage: { ...usage, charged: body.max_tokens } };
}

/**
 * The model call goes here (the recipe stays offline): charge first, then
 * call the provider with `max_tokens`, so a reply never costs more than what
 * was charged.
 */
function draftReply(message: string, maxTokens: number): string {
  const words = `Thanks for asking about "${message.slice(0, 80)}". Here is what our catalogue offers.`.split(" ");
  return words.slice(0, Math.max(1, maxTokens)).join(" ");
}
