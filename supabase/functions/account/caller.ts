// Who calls: the verified user, their claims (audit actor) and the request context.
import type { Claims } from "../_shared/db/db.ts";

/** The caller of an account verb. */
export interface Caller {
  userId: string;
  claims: Claims;
  requestId: string;
  /** The client IP the core resolved from the trusted hop (audit rows record it). */
  clientIp?: string;
  userAgent?: string;
}
