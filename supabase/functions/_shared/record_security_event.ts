// Records a rate-limit refusal in public.security_events. The core decides
// when (`record_event`: at most once per key and window, so a flood writes
// one row, not one per request); this writes the row in the background: the
// refusal never waits for the database. No IP, key or token is stored: the
// route, the rule and the request id identify the event.
import { connectPostgres } from "./connect_postgres.ts";
import { errorCode } from "./limit_global.ts";
import type { LimitDecision } from "./limit_rate.ts";
import { log } from "./log.ts";

/** Pending writes (tests and graceful shutdown can await them). */
export const pendingEvents = new Set<Promise<void>>();

/** Records that `route` refused a request under rule `decision.exceeded`. */
export function recordRateLimitEvent(requestId: string, route: string, decision: LimitDecision): void {
  const details = { route, rule: decision.exceeded, retry_after_s: decision.retry_after_s };
  const write = (async () => {
    try {
      const sql = connectPostgres();
      await sql`insert into public.security_events (event_type, severity, request_id, details)
                values ('rate_limited', 'warning', ${requestId}, ${JSON.stringify(details)}::text::jsonb)`;
    } catch (e) {
      log("warn", "edgeguard: security event not recorded", { request_id: requestId, error: errorCode(e) });
    }
  })();
  pendingEvents.add(write);
  write.finally(() => pendingEvents.delete(write));
}
