// Records a security event the pipeline hands over with a refusal (a rate
// limit or an identity denial) in public.security_events. The core decides
// when (at most once per key and window, so a flood writes one row, not one
// per request), the severity and the details; this writes the row in the
// background: the refusal never waits for the database. No IP, key or token
// is stored: the route, the rule or code and the request id identify it.
import { connectPostgres } from "./connect_postgres.ts";
import { errorCode } from "./database_error.ts";
import { log } from "../runtime/log.ts";
import type { SecurityEvent } from "../wasm/edgeguard_wasm.js";

/** Pending writes (tests and graceful shutdown can await them). */
export const pendingEvents = new Set<Promise<void>>();

/** Writes `event` of request `requestId` in the background. */
export function recordSecurityEvent(requestId: string, event: SecurityEvent): void {
  const write = (async () => {
    try {
      const sql = await connectPostgres();
      // The actor only when it is a user of this project (actor_id references auth.users):
      // a verified token of a since-deleted user still gets its row, without the actor.
      await sql`insert into public.security_events (event_type, severity, actor_id, request_id, details)
                values (${event.event_type}, ${event.severity},
                        (select u.id from auth.users u where u.id = private.try_uuid(${event.actor ?? null})),
                        ${requestId}, ${JSON.stringify(event.details)}::text::jsonb)`;
    } catch (e) {
      log("warn", "edgeguard: security event not recorded", { request_id: requestId, error: errorCode(e) });
    }
  })();
  pendingEvents.add(write);
  write.finally(() => pendingEvents.delete(write));
}
