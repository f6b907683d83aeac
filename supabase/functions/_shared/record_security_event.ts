// Records a security event (rate-limit refusals) in public.security_events.
// The core decides when (`record_event`: at most once per key and window, so
// a flood writes one row, not one per request); this only writes the row, in
// the background: the refusal never waits for the database.
import { connectPostgres } from "./connect_postgres.ts";
import { errorCode } from "./limit_global.ts";
import type { LimitDecision } from "./limit_rate.ts";
import { log } from "./log.ts";

/** Pending writes (tests and graceful shutdown can await them). */
export const pendingEvents = new Set<Promise<void>>();

/** Records that `route` refused a request under rule `decision.exceeded`. */
export function recordRateLimitEvent(requestId: string, route: string, decision: LimitDecision): void {
  const details = {
    route,
    rule: decision.exceeded,
    retry_after_s: decision.retry_after_s,
    request_id: requestId,
  };
  const write = (async () => {
    try {
      const sql = connectPostgres();
      await sql`insert into public.security_events (event_type, severity, details)
                values ('rate_limited', 'warning', ${sql.json(details)})`;
    } catch (e) {
      log("warn", "edgeguard: security event not recorded", { request_id: requestId, error: errorCode(e) });
    }
  })();
  pendingEvents.add(write);
  write.finally(() => pendingEvents.delete(write));
}
