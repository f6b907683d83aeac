// Who calls: the claims the core verified and mapped (what RLS sees through
// request.jwt.claims: sub, tenant_id, user_role, issuer) and the request context.
import type { Claims } from "../../../../supabase/functions/_shared/db/db.ts";

/** The caller of a services-platform verb. */
export interface Caller {
  claims: Claims;
  requestId: string;
  /** The client IP the core resolved from the trusted hop (audit rows record it). */
  clientIp?: string;
  userAgent?: string;
}
