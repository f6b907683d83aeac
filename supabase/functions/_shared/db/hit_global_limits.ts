// Global rate limits: the checks the pipeline lists for `"global": true`
// rules, counted atomically in Postgres (private.rate_limit_hit, one
// statement for all checks of a request). The results go back to the core,
// which decides (and applies the policy's `limits.on_db_error` when this
// rejects).
//
// The statement sets `synchronous_commit = off` for its own transaction
// only: a check does not wait for its WAL flush (several ms on a plain disk).
// Locks and visibility are unchanged, so limits stay exact; a database crash
// can forget the last fraction of a second of counts (more lenient for that
// moment, never stricter). Other users of the pooled connection are not
// affected.
import { connectPostgres, type Sql } from "./connect_postgres.ts";
import type { GlobalCheck, GlobalResult } from "../wasm/edgeguard_wasm.js";

/** How many checks pass between two background purges of expired state. */
export const PURGE_EVERY = 1000;

let sincePurge = 0;

/**
 * Runs `checks` in one round trip; rejects when the database cannot answer.
 * Every PURGE_EVERY checks it also deletes expired state in the background
 * (`private.rate_limit_purge()`), so the table stays bounded without pg_cron.
 */
export async function hitGlobalLimits(
  checks: GlobalCheck[],
  connect: () => Promise<Sql> = connectPostgres,
): Promise<GlobalResult[]> {
  const sql = await connect();
  sincePurge += checks.length;
  if (sincePurge >= PURGE_EVERY) {
    sincePurge = 0;
    sql`select private.rate_limit_purge()`.catch(() => {}); // best effort; the next one retries
  }
  const rows = await sql<{ key: string; allowed: boolean; remaining: number; reset_s: number; retry_after_s: number }[]>`
    select c.key, h.allowed, h.remaining, h.reset_s::int as reset_s, h.retry_after_s::int as retry_after_s
    from (select set_config('synchronous_commit', 'off', true)) as s,
         jsonb_to_recordset((${JSON.stringify(checks)}::text)::jsonb) as c(key text, "limit" int, window_s int)
    cross join lateral private.rate_limit_hit(c.key, c."limit", c.window_s) as h`;
  return rows.map((r) => ({
    key: r.key,
    allowed: r.allowed,
    remaining: r.remaining,
    reset_s: r.reset_s,
    retry_after_s: r.allowed ? null : r.retry_after_s,
  }));
}
