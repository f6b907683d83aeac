import * as assert from "../../tests/e2e/assert.ts";
import { ALERTS_EVERY_S, alertsEveryS, defaultSecretKey, runAlerts } from "./schedule_alerts.ts";

Deno.test("alertsEveryS: whole seconds, 0 turns the timer off, anything else is the default", () => {
  assert.equal(alertsEveryS(undefined), ALERTS_EVERY_S);
  assert.equal(alertsEveryS(""), ALERTS_EVERY_S);
  assert.equal(alertsEveryS("0"), 0);
  assert.equal(alertsEveryS(" 15 "), 15);
  assert.equal(alertsEveryS("-1"), ALERTS_EVERY_S);
  assert.equal(alertsEveryS("1e3"), ALERTS_EVERY_S);
});

Deno.test("defaultSecretKey reads the default key of SUPABASE_SECRET_KEYS", () => {
  assert.equal(defaultSecretKey('{"default":"sb_secret_abc"}'), "sb_secret_abc");
  assert.equal(defaultSecretKey('{"other":"sb_secret_abc"}'), undefined);
  assert.equal(defaultSecretKey("not json"), undefined);
  assert.equal(defaultSecretKey(undefined), undefined);
});

Deno.test("runAlerts posts to the audit function with the secret key and reads its report", async () => {
  const seen: { path: string; method: string; apikey: string | null }[] = [];
  let status = 200;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push({ path: new URL(req.url).pathname, method: req.method, apikey: req.headers.get("apikey") });
    return status === 200
      ? Response.json({ detected: 1, delivered: 1 })
      : Response.json({ code: "MISCONFIGURED" }, { status });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    assert.deepEqual(await runAlerts(url, "sb_secret_k"), { detected: 1, delivered: 1 });
    assert.deepEqual(seen, [{ path: "/functions/v1/audit/alerts/deliver", method: "POST", apikey: "sb_secret_k" }]);
    status = 500;
    let message = "";
    try {
      await runAlerts(url, "sb_secret_k");
    } catch (e) {
      message = (e as Error).message;
    }
    assert.equal(message, "audit/alerts/deliver answered 500 MISCONFIGURED");
  } finally {
    await server.shutdown();
  }
});
