// doctor: allow function.public Stripe calls this endpoint; every delivery is verified against STRIPE_WEBHOOK_SECRET over the raw body
// creator-billing (recipe, examples/creator-saas/README.md): POST
// /creator-billing/stripe. The core verifies the Stripe-Signature over the
// raw bytes (HMAC-SHA256 with STRIPE_WEBHOOK_SECRET, constant-time, the
// signed timestamp within WEBHOOK_TIMESTAMP_TOLERANCE, default 300 s); only
// then is the body parsed and checked, and the event logged once by its id in
// creator_billing_events, setting the creator's plan. Refusals: 401
// INVALID_SIGNATURE, recorded in security_events.
import { guard } from "../../../../supabase/functions/_shared/guard.ts";
import { isProduction } from "../../../../supabase/functions/_shared/runtime/app_env.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import { webhookVerifiers } from "../../../../supabase/functions/_shared/webhooks/verify_webhook.ts";
import { recordWebhookFailure } from "../../../../supabase/functions/_shared/webhooks/record_webhook_failure.ts";
import { recordStripeEvent, type StripeEvent } from "./record_stripe_event.ts";
import policy from "./policy.json" with { type: "json" };

const env = Deno.env.toObject();
const verifiers = await webhookVerifiers(env);
const problems = verifiers.problems(["stripe"]);
if (problems.stripe && isProduction(env)) throw new Error(`edgeguard: creator-billing refused to start: ${problems.stripe}`);

const fetch = guard(policy, async (req, ctx) => {
  const decision = verifiers.verify("stripe", req.headers, ctx.rawBody);
  if (!decision.ok) {
    if (decision.code === "INVALID_SIGNATURE") {
      recordWebhookFailure({ endpoint: "stripe", route: ctx.route, code: decision.code, reason: decision.reason, requestId: ctx.requestId });
    }
    throw new GuardError(decision.code, decision.reason);
  }
  const event = ctx.checkBody() as StripeEvent; // parsed and schema-checked only once the signature holds
  const recorded = await recordStripeEvent(event, { requestId: ctx.requestId, clientIp: ctx.clientIp().client_ip ?? undefined });
  return Response.json({ received: true, ...recorded });
}, { deferBodyChecks: true });

export default { fetch };
