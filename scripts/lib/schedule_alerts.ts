// The local stack's stand-in for pg_cron + pg_net (docs/alerts.md): every
// minute, while the server runs, call the `audit` function's
// POST /audit/alerts/deliver with the secret key, which detects security
// alerts and sends the due ones, signed, to SECURITY_WEBHOOK_URL. The
// timer never keeps the process alive; a failed call waits for the next tick.
//
// EDGEGUARD_ALERTS_EVERY_S sets the interval in seconds (default 60; 0 turns
// the timer off, e.g. for a test that triggers delivery itself).

/** The default interval. */
export const ALERTS_EVERY_S = 60;

/** The interval from EDGEGUARD_ALERTS_EVERY_S: whole seconds, 0 = off; anything else is the default. */
export function alertsEveryS(raw: string | undefined): number {
  const v = (raw ?? "").trim();
  return /^\d{1,6}$/.test(v) ? Number(v) : ALERTS_EVERY_S;
}

/** The `default` key of SUPABASE_SECRET_KEYS (`{"default":"sb_secret_…"}`), if any. */
export function defaultSecretKey(secretKeys: string | undefined): string | undefined {
  try {
    const key = JSON.parse(secretKeys ?? "")?.default;
    return typeof key === "string" && key !== "" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** One run: the route's report, or a thrown error naming the status. */
export async function runAlerts(apiUrl: string, secretKey: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${apiUrl}/functions/v1/audit/alerts/deliver`, {
    method: "POST",
    headers: { apikey: secretKey },
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`audit/alerts/deliver answered ${res.status} ${body?.code ?? ""}`.trim());
  return body;
}

/**
 * Starts the timer; `log` gets one line per run that detected or sent
 * something, and one per new kind of failure (not one a minute).
 */
export function scheduleAlerts(
  apiUrl: string,
  vars: Record<string, string>,
  log: (line: string) => void,
): ReturnType<typeof setInterval> | undefined {
  const everyS = alertsEveryS(vars.EDGEGUARD_ALERTS_EVERY_S);
  const key = defaultSecretKey(vars.SUPABASE_SECRET_KEYS);
  if (everyS === 0 || !key) return undefined;
  let lastFailure = "";
  const id = setInterval(async () => {
    try {
      const r = await runAlerts(apiUrl, key);
      lastFailure = "";
      if (r.detected || r.attempted) {
        log(`alerts: detected ${r.detected}, delivered ${r.delivered}, retrying ${r.retrying}, failed ${r.failed}`);
      }
    } catch (e) {
      const failure = e instanceof Error ? e.message : typeof e;
      if (failure !== lastFailure) log(`alerts skipped (${failure})`);
      lastFailure = failure;
    }
  }, everyS * 1000);
  Deno.unrefTimer(id);
  return id;
}
