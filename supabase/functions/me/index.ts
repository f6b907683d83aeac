// me: the verified identity of the caller (role, tenant, permissions), and
// their profile, created on the first call (as the caller, under RLS).
import { guard } from "../_shared/guard.ts";
import policy from "./policy.json" with { type: "json" };
import { ensureProfile } from "./ensure_profile.ts";

const fetch = guard(policy, async (req, { identity, requestId }) => {
  const { profile, created } = await ensureProfile(identity.claims ?? {}, {
    requestId,
    userAgent: req.headers.get("user-agent") ?? undefined,
  });
  return Response.json({
    sub: identity.sub,
    role: identity.role,
    email: identity.email,
    user_role: identity.user_role,
    tenant_id: identity.tenant_id,
    permissions: identity.permissions,
    aal: identity.aal,
    is_anonymous: identity.is_anonymous,
    exp: identity.exp,
    profile,
    profile_created: created,
  });
});

export default { fetch };
