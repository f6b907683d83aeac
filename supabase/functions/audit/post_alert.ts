// POSTs one outbox alert to SECURITY_WEBHOOK_URL: the core builds the body
// and signs it with Standard Webhooks (edgeguard_core::alerts, docs/alerts.md);
// this sends the bytes it was given and reports what the receiver answered.
// A 2xx answer is a delivery; anything else, a redirect, a timeout or a
// network error is a failed attempt (retried by the outbox's backoff).
import { loadHandlersWasm } from "../_shared/runtime/load_handlers_wasm.ts";
import type { AlertSender } from "../_shared/wasm/edgeguard_handlers.js";

/** An alert as private.claim_security_alerts returns it. */
export interface OutboxAlert {
  id: string;
  alert_type: string;
  detected_at: Date | string;
  attempts: number;
  payload: Record<string, unknown>;
}

/** One attempt's outcome, as private.record_security_alert_attempt takes it. */
export interface Outcome {
  delivered: boolean;
  /** The receiver's HTTP status; null when it did not answer. */
  status: number | null;
  /** A short reason without the URL or any header (null when delivered). */
  error: string | null;
}

/** How long one attempt may take. */
export const ATTEMPT_TIMEOUT_MS = 5_000;

let shared: AlertSender | undefined;

/** The function's signer, built once from its environment. */
export async function alertSender(): Promise<AlertSender> {
  return shared ??= new (await loadHandlersWasm()).AlertSender(JSON.stringify(Deno.env.toObject()));
}

type Prepared =
  | { ok: true; url: string; headers: [string, string][]; body: string }
  | { ok: false; code: string; reason: string };

/** Signs and sends `alert` with `sender` (now: `Date.now()`). */
export async function postAlert(
  sender: AlertSender,
  alert: OutboxAlert,
  timeoutMs = ATTEMPT_TIMEOUT_MS,
): Promise<Outcome> {
  const detectedAt = alert.detected_at instanceof Date ? alert.detected_at.toISOString() : alert.detected_at;
  const prepared = JSON.parse(sender.prepare(
    JSON.stringify({ id: alert.id, type: alert.alert_type, detected_at: detectedAt, data: alert.payload }),
    Date.now(),
  )) as Prepared;
  if (!prepared.ok) return { delivered: false, status: null, error: prepared.code };
  try {
    const res = await fetch(prepared.url, {
      method: "POST",
      headers: prepared.headers,
      body: prepared.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { delivered: true, status: res.status, error: null };
    return { delivered: false, status: res.status, error: `receiver answered ${res.status}` };
  } catch (e) {
    const timedOut = e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError");
    return { delivered: false, status: null, error: timedOut ? "timeout" : "network error" };
  }
}
