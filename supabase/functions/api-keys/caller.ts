// Who calls api-keys: the verified user, their tenant and permissions, and
// the request context the audit log records.
import type { Identity } from "../_shared/guard.ts";
import type { Claims, RequestContext } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";

/** The caller of every route. */
export interface Caller {
  userId: string;
  tenantId: string | null;
  permissions: readonly string[];
  claims: Claims;
  ctx: RequestContext;
}

/** The caller from the guard's identity (a user token; the policy accepts nothing else). */
export function callerOf(identity: Readonly<Identity>, ctx: RequestContext): Caller {
  if (!identity.sub) throw new GuardError("FORBIDDEN", "the token names no user");
  return {
    userId: identity.sub,
    tenantId: identity.tenant_id,
    permissions: identity.permissions,
    claims: (identity.claims ?? {}) as Claims,
    ctx,
  };
}
