// Verifies a user API key in Postgres when the pipeline asks for it (a
// `need_api_key_lookup` step): one call of private.api_key_verify with the
// keyed hash the core computed (and the previous pepper's hash during a
// SECRET_KEY rotation). The row goes back to the core, which decides;
// nothing here looks at it. Counted uses and per-key rate limits are decided
// in that call, under the key's row lock (docs/api-keys.md).
//
// One statement on the isolate's pool, outside any explicit transaction: the
// function is atomic on its own (security definer, owner-only), so the
// lookup costs one round trip instead of asAdmin's five (begin, settings,
// call, checkpoint probe, commit). A pepper re-hash it performs is audited
// with no actor, as the service's own maintenance.
import { connectPostgres } from "./connect_postgres.ts";

/** The row of `private.api_key_verify` for the hashes (never the key). */
export async function lookupApiKey(keyHash: string, previousHash: string | null): Promise<unknown> {
  const sql = await connectPostgres();
  const [row] = await sql`select status, key_id, user_id, tenant_id, scopes, user_role, permissions,
                                 expires_at::float8 as expires_at, counted, retry_after_s
                          from private.api_key_verify(${keyHash}, ${previousHash})`;
  return row;
}
