// GET /me: the verified identity of the caller (role, tenant, permissions), and
// their profile, created on the first call (as the caller, under RLS). A
// caller with a user API key is its owner: `api_key_id` names the key and
// `permissions` are the owner's intersected with the key's scopes.
import type { Identity } from "../_shared/guard.ts";
import type { RequestContext } from "../_shared/db/db.ts";
import { ensureProfile } from "./ensure_profile.ts";

/** The body of GET /me. */
export async function showMe(identity: Readonly<Identity>, ctx: RequestContext) {
  const { profile, created } = await ensureProfile(identity.claims ?? {}, ctx);
  return {
    sub: identity.sub,
    role: identity.role,
    email: identity.email,
    user_role: identity.user_role,
    tenant_id: identity.tenant_id,
    permissions: identity.permissions,
    aal: identity.aal,
    is_anonymous: identity.is_anonymous,
    exp: identity.exp,
    api_key_id: identity.api_key_id ?? null,
    profile,
    profile_created: created,
  };
}
