// How a key is shown: never its hash, never its plaintext (that appears only
// in the creation and rotation answers, once).

/** A row of public.api_keys as every listing and answer shows it. */
export interface KeyView {
  id: string;
  prefix: string;
  name: string;
  tenant_id: string | null;
  user_id: string;
  scopes: string[];
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
  uses_remaining: number | null;
  refill: { amount: number; interval_s: number } | null;
  rate_limit: { limit: number; window_s: number } | null;
  created_by: string | null;
  revoked_by: string | null;
  rotated_from: string | null;
}

/** The columns a view is built from (key_hash is not among them). */
export const VIEW_COLUMNS = [
  "id", "prefix", "name", "tenant_id", "user_id", "scopes", "expires_at", "revoked_at", "last_used_at",
  "created_at", "uses_remaining", "refill_amount", "refill_interval_s", "rate_limit", "rate_limit_window_s",
  "created_by", "revoked_by", "rotated_from",
] as const;

type Row = Record<string, unknown>;

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

/** The view of one row. */
export function keyView(r: Row): KeyView {
  return {
    id: r.id as string,
    prefix: r.prefix as string,
    name: r.name as string,
    tenant_id: r.tenant_id as string | null,
    user_id: r.user_id as string,
    scopes: r.scopes as string[],
    expires_at: iso(r.expires_at),
    revoked_at: iso(r.revoked_at),
    last_used_at: iso(r.last_used_at),
    created_at: iso(r.created_at) as string,
    uses_remaining: r.uses_remaining as number | null,
    refill: r.refill_amount == null ? null : { amount: r.refill_amount as number, interval_s: r.refill_interval_s as number },
    rate_limit: r.rate_limit == null ? null : { limit: r.rate_limit as number, window_s: r.rate_limit_window_s as number },
    created_by: r.created_by as string | null,
    revoked_by: r.revoked_by as string | null,
    rotated_from: r.rotated_from as string | null,
  };
}
