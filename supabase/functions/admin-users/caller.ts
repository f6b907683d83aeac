// Who calls: the verified claims (for RLS and the audit actor) and the request context.
import type { Claims } from "../_shared/db/db.ts";

/** The caller of an admin-users verb. */
export interface Caller {
  claims: Claims;
  requestId: string;
  /** The client IP the core resolved from the trusted hop (audit rows record it). */
  clientIp?: string;
  userAgent?: string;
}
