// Global rate limits: the checks the core lists for `"global": true` rules,
// counted atomically in Postgres (private.rate_limit_hit, one statement for
// all checks of a request), then folded back into the core's decision.
//
// Database down: the core applies the policy's `limits.on_db_error`:
// `closed` (default) answers 503 UNAVAILABLE, `open` proceeds under the
// in-isolate limits only. Either way one warning is logged.
import { log } from "./log.ts";
import type { GlobalCheck, LimitVerdict } from "./limit_rate.ts";
import { parseAnswer } from "./wasm_answer.ts";
import type { Sql } from "./connect_postgres.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/** The Postgres limiter's answer for one check. */
export interface GlobalResult {
  key: string;
  allowed: boolean;
  remaining: number;
  reset_s: number;
  retry_after_s?: number;
}

/** Runs the checks; rejects when the database cannot answer. */
export type RunChecks = (checks: GlobalCheck[]) => Promise<GlobalResult[]>;

/** How many checks pass between two background purges of expired state. */
export const PURGE_EVERY = 1000;

/**
 * Runs checks through `private.rate_limit_hit` on `sql`, in one round trip.
 * Every PURGE_EVERY checks it also deletes expired state in the background
 * (`private.rate_limit_purge()`), so the table stays bounded without pg_cron.
 */
export function postgresChecks(connect: () => Sql | Promise<Sql>): RunChecks {
  let sincePurge = 0;
  return async (checks) => {
    const sql = await connect();
    sincePurge += checks.length;
    if (sincePurge >= PURGE_EVERY) {
      sincePurge = 0;
      sql`select private.rate_limit_purge()`.catch(() => {}); // best effort; the next one retries
    }
    const rows = await sql<{ key: string; allowed: boolean; remaining: number; reset_s: number; retry_after_s: number }[]>`
      select c.key, h.allowed, h.remaining, h.reset_s::int as reset_s, h.retry_after_s::int as retry_after_s
      from jsonb_to_recordset((${JSON.stringify(checks)}::text)::jsonb) as c(key text, "limit" int, window_s int)
      cross join lateral private.rate_limit_hit(c.key, c."limit", c.window_s) as h`;
    return rows.map((r) => ({
      key: r.key,
      allowed: r.allowed,
      remaining: r.remaining,
      reset_s: r.reset_s,
      ...(r.allowed ? {} : { retry_after_s: r.retry_after_s }),
    }));
  };
}

/** Applies the global checks of a local verdict that allowed the request. */
export async function limitGlobal(
  h: Hardening,
  route: string,
  local: LimitVerdict,
  run: RunChecks,
  requestId: string,
  nowMs = Date.now(),
): Promise<LimitVerdict> {
  const decision = local.decision;
  if (!local.ok || !decision || decision.global.length === 0) return local;
  let answer: unknown;
  try {
    answer = { decision, results: await run(decision.global) };
  } catch (e) {
    log("warn", "edgeguard: rate limiter database unavailable", {
      request_id: requestId,
      error: errorCode(e),
    });
    answer = { decision, unavailable: true };
  }
  return parseAnswer(h.limitApplyGlobal(route, JSON.stringify(answer), nowMs)) as LimitVerdict;
}

/** A log-safe description of a database error: its code or class, never its text. */
export function errorCode(e: unknown): string {
  if (e && typeof e === "object" && "code" in e && typeof (e as { code: unknown }).code === "string") {
    return (e as { code: string }).code;
  }
  return e instanceof Error ? e.name : typeof e;
}
