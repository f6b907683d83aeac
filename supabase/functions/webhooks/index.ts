// doctor: allow function.public callers are providers; every route verifies the provider's signature over the raw body
// webhooks: POST /webhooks/{stripe,shopify,github,standard}.
// guard (size limit, rate limit) → verify the raw bytes in wasm → parse and
// check the body (deferred until signed) → claim the delivery once in
// webhook_events → the provider's handler (handlers.ts).
// Refusals are recorded in security_events (no body) and answered 401.
import { guard } from "../_shared/guard.ts";
import { isProduction } from "../_shared/runtime/app_env.ts";
import { connectPostgres } from "../_shared/db/connect_postgres.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import { webhookVerifiers } from "../_shared/webhooks/verify_webhook.ts";
import { recordWebhookFailure } from "../_shared/webhooks/record_webhook_failure.ts";
import { processWebhookOnce } from "../_shared/webhooks/process_webhook_once.ts";
import { handlers, type Provider } from "./handlers.ts";
import { eventType } from "./event_type.ts";
import policy from "./policy.json" with { type: "json" };

// Every provider routed in policy.json must be configured (drop a route to
// stop serving a provider); in production a missing secret stops the start.
const routed = policy.routes.map((r) => r.path.slice("/webhooks/".length));
const env = Deno.env.toObject();
const verifiers = await webhookVerifiers(env);
const problems = verifiers.problems(routed);
if (Object.keys(problems).length && isProduction(env)) {
  throw new Error(`edgeguard: webhooks refused to start: ${Object.values(problems).join("; ")}`);
}

const fetch = guard(policy, async (req, ctx) => {
  const provider = ctx.route.slice("POST /webhooks/".length) as Provider;
  const decision = verifiers.verify(provider, req.headers, ctx.rawBody);
  if (!decision.ok) {
    if (decision.code === "INVALID_SIGNATURE") {
      recordWebhookFailure({ endpoint: provider, route: ctx.route, code: decision.code, reason: decision.reason, requestId: ctx.requestId });
    }
    throw new GuardError(decision.code, decision.reason);
  }
  const body = ctx.checkBody(); // parsed only once the signature holds
  const event = {
    provider, id: decision.event_id, idSigned: decision.event_id_signed, timestamp: decision.timestamp,
    type: eventType(provider, req.headers, body), body, rawBody: ctx.rawBody,
    headers: req.headers, requestId: ctx.requestId,
  };
  const outcome = await processWebhookOnce(await connectPostgres(), event, handlers[provider]);
  return Response.json(outcome.duplicate ? { received: true, duplicate: true } : { received: true, duplicate: false, result: outcome.result ?? null });
}, { deferBodyChecks: true });

export default { fetch };
