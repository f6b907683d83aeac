// doctor: allow function.public Supabase Auth calls it; every route verifies the Standard Webhooks signature (AUTH_HOOK_SECRET)
// auth-hooks: Supabase Auth HTTP hooks, Standard-Webhooks-signed with
// AUTH_HOOK_SECRET (`v1,whsec_…`, several during rotation).
//   POST /auth-hooks/custom-access-token     adds user_role, tenant_id, permissions
//   POST /auth-hooks/password-verification   counts failures, locks out
// guard (size limit) → verify the raw bytes in wasm → once per webhook-id:
// schema check → the hook. Answers as Auth reads them (docs/platform.md):
// refusals 200 with `error`, database down 503 + Retry-After, replays get
// the first answer. Bad signatures are recorded in security_events (no body).
import { guard } from "../_shared/guard.ts";
import { isProduction } from "../_shared/runtime/app_env.ts";
import { connectPostgres } from "../_shared/db/connect_postgres.ts";
import { DatabaseUnavailable, toDatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import { webhookVerifiers } from "../_shared/webhooks/verify_webhook.ts";
import { recordWebhookFailure } from "../_shared/webhooks/record_webhook_failure.ts";
import { answerOnce, type Hook } from "./answer_once.ts";
import { type AccessTokenEvent, customAccessToken } from "./custom_access_token.ts";
import { type PasswordAttemptEvent, passwordVerification } from "./password_verification.ts";
import { hookRefusal, hookUnavailable, respondHook } from "./respond_hook_error.ts";
import policy from "./policy.json" with { type: "json" };

const env = Deno.env.toObject();
const verifiers = await webhookVerifiers(env);
const problems = verifiers.problems(["auth_hook"]);
if (problems.auth_hook && isProduction(env)) {
  throw new Error(`edgeguard: auth-hooks refused to start: ${problems.auth_hook}`);
}

const fetch = guard(policy, async (req, ctx) => {
  const decision = verifiers.verify("auth_hook", req.headers, ctx.rawBody);
  if (!decision.ok) {
    if (decision.code === "INVALID_SIGNATURE") {
      recordWebhookFailure({ endpoint: "auth_hook", route: ctx.route, code: decision.code, reason: decision.reason, requestId: ctx.requestId });
    }
    const refused = new GuardError(decision.code, decision.reason);
    const answer = hookRefusal(refused, ctx.requestId);
    if (!answer) throw refused; // MISCONFIGURED: a real 500
    return respondHook(answer, ctx.requestId);
  }
  const hook: Hook = ctx.route === "POST /auth-hooks/custom-access-token" ? "custom-access-token" : "password-verification";
  const webhookId = req.headers.get("webhook-id") ?? ""; // covered by the signature just verified
  try {
    const answer = await answerOnce(await connectPostgres(), webhookId, hook, async (tx) => {
      const body = ctx.checkBody(); // schema-checked only once the signature holds
      return hook === "custom-access-token"
        ? await customAccessToken(tx, body as AccessTokenEvent)
        : await passwordVerification(tx, body as PasswordAttemptEvent, ctx.requestId);
    }, (e) => hookRefusal(e, ctx.requestId));
    return respondHook(answer, ctx.requestId);
  } catch (e) {
    if (toDatabaseError(e) instanceof DatabaseUnavailable) return hookUnavailable(ctx.requestId);
    throw e;
  }
}, { deferBodyChecks: true });

export default { fetch };
