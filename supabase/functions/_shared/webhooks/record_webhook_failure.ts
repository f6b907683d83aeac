// Records a refused webhook or auth-hook delivery in public.security_events:
// which endpoint, the core's reason (it names headers, never values) and the
// request id. Never the body, the headers or any signature. Written in the
// background: the 401 never waits for the database.
import { connectPostgres } from "../db/connect_postgres.ts";
import { errorCode } from "../db/database_error.ts";
import { log } from "../runtime/log.ts";
import { pendingEvents } from "../db/record_security_event.ts";

export interface WebhookFailure {
  /** The endpoint: `stripe`, `shopify`, `github`, `standard`, `auth_hook`. */
  endpoint: string;
  /** The route, e.g. `POST /webhooks/stripe`. */
  route: string;
  /** SPEC code (`INVALID_SIGNATURE`). */
  code: string;
  /** The core's secret-free reason. */
  reason: string;
  requestId: string;
}

/** Event type of a refused signature in security_events. */
export const WEBHOOK_FAILURE_EVENT = "webhook_signature_invalid";

/** Records `failure` (background; `pendingEvents` tracks the write). */
export function recordWebhookFailure(failure: WebhookFailure): void {
  const details = {
    endpoint: failure.endpoint,
    route: failure.route,
    code: failure.code,
    reason: failure.reason,
    request_id: failure.requestId,
  };
  const write = (async () => {
    try {
      const sql = await connectPostgres();
      await sql`insert into public.security_events (event_type, severity, request_id, details)
                values (${WEBHOOK_FAILURE_EVENT}, 'warning', ${failure.requestId}, ${sql.json(details)})`;
    } catch (e) {
      log("warn", "edgeguard: security event not recorded", { request_id: failure.requestId, error: errorCode(e) });
    }
  })();
  pendingEvents.add(write);
  write.finally(() => pendingEvents.delete(write));
}
