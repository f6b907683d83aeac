// me: the verified identity of the caller.
import { guard } from "../_shared/guard.ts";
import policy from "./policy.json" with { type: "json" };

const fetch = guard(policy, (_req, { identity }) =>
  Response.json({
    sub: identity.sub,
    role: identity.role,
    email: identity.email,
    user_role: identity.user_role,
    tenant_id: identity.tenant_id,
    permissions: identity.permissions,
    aal: identity.aal,
    is_anonymous: identity.is_anonymous,
  }));

export default { fetch };

if (import.meta.main) Deno.serve(fetch);
