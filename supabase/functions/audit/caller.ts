// Who calls: the verified claims (for RLS), the token's tenant and the request context.
import type { Claims } from "../_shared/db.ts";

/** The caller of an audit verb. */
export interface Caller {
  claims: Claims;
  /** The token's tenant_id: the only tenant an audit verb reads. */
  tenantId: string;
  requestId: string;
  clientIp?: string;
  userAgent?: string;
}
