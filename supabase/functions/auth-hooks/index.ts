// doctor: allow function.public Supabase Auth calls it; every route verifies the Standard Webhooks signature (AUTH_HOOK_SECRET)
// auth-hooks: Supabase Auth HTTP hooks, Standard-Webhooks-signed with
// AUTH_HOOK_SECRET (`v1,whsec_…`, several during rotation).
//   POST /auth-hooks/custom-access-token     adds user_role, tenant_id, permissions
//   POST /auth-hooks/password-verification   counts failures, locks out
// guard (size limit) → verify the raw bytes in wasm → schema check → the hook.
// Bad signatures are recorded in security_events (no body) and answered 401.
import { guard } from "../_shared/guard.ts";
import { connectPostgres } from "../_shared/connect_postgres.ts";
import { GuardError } from "../_shared/respond_error.ts";
import { webhookVerifiers } from "../_shared/verify_webhook.ts";
import { recordWebhookFailure } from "../_shared/record_webhook_failure.ts";
import { type AccessTokenEvent, customAccessToken } from "./custom_access_token.ts";
import { type PasswordAttemptEvent, passwordVerification } from "./password_verification.ts";
import { respondHookError } from "./respond_hook_error.ts";
import policy from "./policy.json" with { type: "json" };

const env = Deno.env.toObject();
const verifiers = webhookVerifiers(env);
const problems = verifiers.problems(["auth_hook"]);
if (problems.auth_hook && env.APP_ENV === "production") {
  throw new Error(`edgeguard: auth-hooks refused to start: ${problems.auth_hook}`);
}

const fetch = guard(policy, async (req, ctx) => {
  try {
    const decision = verifiers.verify("auth_hook", req.headers, ctx.rawBody);
    if (!decision.ok) {
      if (decision.code === "INVALID_SIGNATURE") {
        recordWebhookFailure({ endpoint: "auth_hook", route: ctx.route, code: decision.code, reason: decision.reason, requestId: ctx.requestId });
      }
      throw new GuardError(decision.code, decision.reason);
    }
    const body = ctx.checkBody(); // schema-checked only once the signature holds
    if (ctx.route === "POST /auth-hooks/custom-access-token") {
      return await customAccessToken(connectPostgres(), body as AccessTokenEvent);
    }
    return await passwordVerification(connectPostgres(), body as PasswordAttemptEvent, ctx.requestId);
  } catch (e) {
    return await respondHookError(e, ctx.requestId);
  }
}, { deferBodyChecks: true });

export default { fetch };

if (import.meta.main) Deno.serve(fetch);
