// Who calls: the verified claims (for RLS), the token's tenant and the request context.
import { asUser, type Claims, DatabaseError, type Tx } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";

/** The caller of an audit verb. */
export interface Caller {
  claims: Claims;
  /** The token's tenant_id: the only tenant an audit verb reads. */
  tenantId: string;
  requestId: string;
  clientIp?: string;
  userAgent?: string;
}

/**
 * Runs `fn` as the caller under RLS; the database's own `audit:read` check
 * (42501, from the caller's current membership) answers 403 FORBIDDEN.
 */
export async function asAuditReader<T>(caller: Caller, fn: (sql: Tx) => Promise<T>): Promise<T> {
  try {
    return await asUser(caller.claims, fn, caller);
  } catch (e) {
    if (e instanceof DatabaseError && e.sqlstate === "42501") {
      throw new GuardError("FORBIDDEN", "audit:read is not held in this tenant");
    }
    throw e;
  }
}
