// Records a rate-limit refusal or an identity denial in public.security_events. The core decides
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
  insertEvent(requestId, "rate_limited", "warning", null, details);
}

/** Identity denials that happen after the credentials were verified. */
const AUTHZ_CODES = new Set(["FORBIDDEN", "TENANT_MISMATCH"]);

/**
 * Records that `route` denied a request's identity with `code` (the core
 * decided, via `Hardening.recordDenial`, that this one is worth a row).
 * `reason` is the core's secret-free reason; `actorId` the verified `sub`
 * the core names for authorization denials (never for failed credentials).
 * Authorization denials are `warning`, authentication ones `notice`.
 */
export function recordAuthDeniedEvent(
  requestId: string,
  route: string,
  code: string,
  reason: string,
  actorId: string | null = null,
): void {
  const severity = AUTHZ_CODES.has(code) ? "warning" : "notice";
  insertEvent(requestId, "auth_denied", severity, actorId, { code, reason, route });
}

function insertEvent(
  requestId: string,
  eventType: string,
  severity: string,
  actorId: string | null,
  details: Record<string, unknown>,
): void {
  const write = (async () => {
    try {
      const sql = await connectPostgres();
      // The actor only when it is a user of this project (actor_id references auth.users):
      // a verified token of a since-deleted user still gets its row, without the actor.
      await sql`insert into public.security_events (event_type, severity, actor_id, request_id, details)
                values (${eventType}, ${severity},
                        (select u.id from auth.users u where u.id = private.try_uuid(${actorId})),
                        ${requestId}, ${JSON.stringify(details)}::text::jsonb)`;
    } catch (e) {
      log("warn", "edgeguard: security event not recorded", { request_id: requestId, error: errorCode(e) });
    }
  })();
  pendingEvents.add(write);
  write.finally(() => pendingEvents.delete(write));
}
