// Who calls: the verified claims (RLS, audit actor) and the request context.
import type { Claims } from "../../../../supabase/functions/_shared/db/db.ts";

/** The caller of a marketplace verb. */
export interface Caller {
  claims: Claims;
  requestId: string;
  /** The client IP the core resolved from the trusted hop (audit rows record it). */
  clientIp?: string;
  userAgent?: string;
}
