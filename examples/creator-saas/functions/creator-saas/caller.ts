// Who calls: the verified claims (RLS, audit actor) — a creator's own token or
// one of their API keys, whose claims are the owner's — and the request context.
import type { Claims } from "../../../../supabase/functions/_shared/db/db.ts";

/** The caller of a creator-saas verb. */
export interface Caller {
  claims: Claims;
  /** "user" (an access token) or "apikey" (an egk_ key acting as its owner). */
  via: string;
  requestId: string;
  /** The client IP the core resolved from the trusted hop (audit rows record it). */
  clientIp?: string;
  userAgent?: string;
}
