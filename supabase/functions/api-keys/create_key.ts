// POST /api-keys {name, scopes, expires_in_s?, uses?, refill?, rate_limit?}:
// a key for the caller in the caller's tenant. The core checks the body and
// caps the scopes at the caller's permissions, then mints; the service
// inserts the row (clients cannot write api_keys), where a trigger caps the
// scopes again at the owner's role. Audited with the caller as actor.
import { asAdmin, DatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { keyView, type KeyView, VIEW_COLUMNS } from "./key_view.ts";
import { mintForCreate } from "./mint.ts";

/** Creates the key; the answer carries the plaintext, once. */
export async function createKey(caller: Caller, body: Uint8Array): Promise<KeyView & { key: string }> {
  const m = await mintForCreate(body, caller.permissions);
  const s = m.spec;
  try {
    const [row] = await asAdmin((sql) =>
      sql`insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes, expires_at, uses_remaining,
                                       refill_amount, refill_interval_s, refilled_at, rate_limit, rate_limit_window_s, created_by)
          values (${caller.tenantId}, ${caller.userId}, ${s.name}, ${m.prefix}, ${m.key_hash}, ${s.scopes}::text[],
                  now() + make_interval(secs => ${s.expires_in_s}::int), ${s.uses}::int,
                  ${s.refill?.amount ?? null}::int, ${s.refill?.interval_s ?? null}::int,
                  case when ${s.refill?.amount ?? null}::int is null then null else now() end,
                  ${s.rate_limit?.limit ?? null}::int, ${s.rate_limit?.window_s ?? null}::int, ${caller.userId})
          returning ${sql(VIEW_COLUMNS as unknown as string[])}`, { ...caller.ctx, actorClaims: caller.claims });
    return { ...keyView(row), key: m.key };
  } catch (e) {
    // 42501: the database's ceiling (a scope above the owner's role, or no longer a member of the tenant)
    if (e instanceof DatabaseError && e.sqlstate === "42501") {
      throw new GuardError("FORBIDDEN", "a scope exceeds your role's permissions in this tenant");
    }
    // 23503: the caller has no account row
    if (e instanceof DatabaseError && e.sqlstate === "23503") {
      throw new GuardError("FORBIDDEN", "no account for this user");
    }
    throw e;
  }
}
