// POST /audit/alerts/deliver (secret key only; called every minute by a
// scheduler, never by a request handler): detects what crosses the alert
// rules (private.detect_security_alerts), then sends the due alerts of the
// outbox, signed, to SECURITY_WEBHOOK_URL and records each outcome
// (docs/alerts.md). Without SECURITY_WEBHOOK_URL and SECURITY_WEBHOOK_SECRET
// alerts are detected and kept, not sent; a half or invalid configuration
// answers 500 MISCONFIGURED after the detection.
import { asAdmin } from "../_shared/db/db.ts";
import { log } from "../_shared/runtime/log.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import { alertSender, type OutboxAlert, postAlert } from "./post_alert.ts";

/** What one run did. */
export interface DeliveryReport {
  /** Alerts written to the outbox by this run's detection. */
  detected: number;
  /** Whether SECURITY_WEBHOOK_URL and SECURITY_WEBHOOK_SECRET are set. */
  configured: boolean;
  /** Alerts sent (or tried) in this run. */
  attempted: number;
  delivered: number;
  /** Failed attempts that will be retried. */
  retrying: number;
  /** Alerts given up in this run (their last attempt failed). */
  failed: number;
}

type Status = { ok: true } | { ok: false; configured: boolean; code: string; reason: string };

export async function deliverAlerts(requestId: string): Promise<DeliveryReport> {
  const detected = await asAdmin((sql) => sql`select id from private.detect_security_alerts()`, { requestId });
  const sender = await alertSender();
  const status = JSON.parse(sender.status()) as Status;
  const report = { detected: detected.length, configured: true, attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  if (!status.ok) {
    if (!status.configured) return { ...report, configured: false };
    throw new GuardError("MISCONFIGURED", status.reason);
  }
  const due = await asAdmin((sql) =>
    sql<OutboxAlert[]>`
      select id::text, alert_type, detected_at, attempts, payload from private.claim_security_alerts()`, { requestId });
  // Each attempt is bounded by its timeout; the claim already scheduled the retry.
  const outcomes = await Promise.all(due.map((alert) => postAlert(sender, alert)));
  const statuses = await asAdmin(async (sql) => {
    const out: string[] = [];
    for (const [i, o] of outcomes.entries()) {
      const [row] = await sql<{ status: string | null }[]>`
        select private.record_security_alert_attempt(${due[i].id}::uuid, ${o.delivered}, ${o.status}::integer,
                                                     ${o.error}) as status`;
      out.push(row.status ?? "unknown");
    }
    return out;
  }, { requestId });
  for (const [i, o] of outcomes.entries()) {
    if (o.delivered) continue;
    log("warn", "edgeguard: security alert not delivered", {
      request_id: requestId,
      alert_id: due[i].id,
      alert_type: due[i].alert_type,
      attempt: due[i].attempts,
      status: o.status,
      error: o.error,
      gave_up: statuses[i] === "failed",
    });
  }
  return {
    ...report,
    attempted: due.length,
    delivered: statuses.filter((s) => s === "delivered").length,
    retrying: statuses.filter((s) => s === "pending").length,
    failed: statuses.filter((s) => s === "failed").length,
  };
}
