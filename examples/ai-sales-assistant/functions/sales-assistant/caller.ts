// Who calls: the verified claims (RLS, audit actor) and the request context.
import type { Claims } from "../../../../supabase/functions/_shared/db/db.ts";

/** The caller of a sales-assistant verb. */
export interface Caller {
  claims: Claims;
  requestId: string;
  /** The client IP the core resolved from the trusted hop. */
  clientIp?: string;
  userAgent?: string;
}
