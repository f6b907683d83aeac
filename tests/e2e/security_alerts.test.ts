// Signed security alerts (docs/alerts.md): a burst of auth failures and a
// tampered audit chain become alerts that a receiver verifies with the
// `standardwebhooks` package; one alert per window, a 500 retried with
// backoff, no IP or token in the payload. The receiver is this test's own
// HTTP server; the functions that send to it run in a second server process
// with SECURITY_WEBHOOK_URL pointing at it (the stack's own server has no
// URL: it detects and keeps alerts, and sends none).
import postgres from "npm:postgres@3.4.9";
import { Webhook } from "npm:standardwebhooks@1.1.1";
import * as assert from "./assert.ts";
import { dbUrl, devKeys, errorBody, functionsUrl, mintToken, startServer } from "./stack.ts";
import { randomIp } from "./probe_support.ts";

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  verified: boolean;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  answered: number;
}

/** A receiver that verifies every delivery with `standardwebhooks` and answers `answer`. */
function startReceiver(secret: string) {
  const received: Received[] = [];
  const state = { answer: 200 };
  const wh = new Webhook(secret);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    const headers = Object.fromEntries(req.headers);
    let verified = false;
    let payload = JSON.parse(body);
    try {
      payload = wh.verify(body, headers);
      verified = true;
    } catch {
      verified = false;
    }
    received.push({
      id: headers["webhook-id"],
      timestamp: headers["webhook-timestamp"],
      signature: headers["webhook-signature"],
      verified,
      body,
      payload,
      answered: state.answer,
    });
    return new Response(null, { status: state.answer });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/edgeguard-alerts`, received, state, server };
}

async function setup() {
  const keys = await devKeys();
  const secret = keys.env.SECURITY_WEBHOOK_SECRET;
  assert.match(secret ?? "", /^whsec_/, "the stack has a SECURITY_WEBHOOK_SECRET");
  const receiver = startReceiver(secret);
  const sender = await startServer({
    SECURITY_WEBHOOK_URL: receiver.url,
    // this test triggers delivery itself
    EDGEGUARD_ALERTS_EVERY_S: "0",
    EDGEGUARD_QUIET: "1",
  });
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const deliver = async (base = `${sender.url}/functions/v1`) => {
    const res = await fetch(`${base}/audit/alerts/deliver`, {
      method: "POST",
      headers: { apikey: keys.env.SUPABASE_SECRET_KEY },
    });
    assert.equal(res.status, 200, await res.clone().text());
    return await res.json();
  };
  const stop = async () => {
    await sql.end();
    await sender.stop();
    await receiver.server.shutdown();
  };
  return { keys, secret, receiver, sender, sql, deliver, stop };
}

/** Waits (bounded) until the guard's background writes recorded `ids`. */
async function waitForEvents(sql: postgres.Sql, ids: string[]) {
  for (let i = 0; i < 100; i++) {
    const [row] = await sql`select count(*)::int as n from public.security_events where request_id = any(${ids})`;
    if (row.n >= ids.length) return row.n;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("security events were not recorded");
}

Deno.test("the delivery route takes the secret key only; without a URL alerts are kept, not sent", async () => {
  const keys = await devKeys();
  const url = `${functionsUrl}/audit/alerts/deliver`;
  const none = await fetch(url, { method: "POST" });
  assert.equal(`${none.status} ${(await errorBody(none)).code}`, "401 MISSING_CREDENTIALS");
  const user = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${await mintToken()}` } });
  assert.equal(user.status, 401, "a user token is not accepted");
  await user.body?.cancel();
  const publishable = await fetch(url, { method: "POST", headers: { apikey: keys.env.SUPABASE_PUBLISHABLE_KEY } });
  assert.equal(publishable.status, 401, "the publishable key is not accepted");
  await publishable.body?.cancel();
  const get = await fetch(url, { headers: { apikey: keys.env.SUPABASE_SECRET_KEY } });
  assert.equal(get.status, 405);
  await get.body?.cancel();
  const res = await fetch(url, { method: "POST", headers: { apikey: keys.env.SUPABASE_SECRET_KEY } });
  assert.equal(res.status, 200);
  const report = await res.json();
  assert.equal(report.configured, false, "the stack's own server has no SECURITY_WEBHOOK_URL");
  assert.equal(report.attempted, 0);
});

Deno.test("25 auth failures on a route: one signed alert, a 500 retried with backoff, then delivered once", async () => {
  const t = await setup();
  try {
    const route = "GET /audit/metrics";
    // A clean slate for this subject (a re-run within 5 minutes on the same
    // database would otherwise be de-duplicated against the previous run).
    await t.sql`delete from private.security_alerts where rule = 'auth_failures' and subject = ${route}`;
    const started = new Date();
    const good = await mintToken();
    const bad = good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");
    const ips: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const ip = randomIp();
      ips.push(ip);
      const res = await fetch(`${functionsUrl}/audit/metrics`, {
        headers: { authorization: `Bearer ${bad}`, "x-forwarded-for": ip },
      });
      const body = await errorBody(res);
      assert.equal(`${res.status} ${body.code}`, "401 INVALID_JWT");
      ids.push(body.request_id);
    }
    await waitForEvents(t.sql, ids);

    const ours = () =>
      t.receiver.received.filter((r) =>
        r.payload.type === "security.auth_failures" && r.payload.data.route === route &&
        new Date(r.payload.timestamp) >= started
      );

    // First attempt: the receiver answers 500.
    t.receiver.state.answer = 500;
    const first = await t.deliver();
    // (the stack's own scheduler may have detected it first: then this run only sends it)
    assert.ok(first.attempted >= 1, JSON.stringify(first));
    assert.equal(ours().length, 1, "the alert was sent");
    const [alert] = await t.sql`
        select id::text, status, attempts, last_status, next_attempt_at - last_attempt_at as wait
        from private.security_alerts
        where rule = 'auth_failures' and subject = ${route} and detected_at >= ${started}`;
    assert.deepEqual(
      { status: alert.status, attempts: alert.attempts, last_status: alert.last_status, wait: alert.wait },
      { status: "pending", attempts: 1, last_status: 500, wait: "00:00:30" },
    );
    const sent = ours()[0];
    assert.ok(sent.verified, "standardwebhooks verified the signature");
    assert.equal(sent.id, `alert_${alert.id}`);
    let forged = false;
    try {
      new Webhook(`whsec_${btoa("another secret, 32 bytes long...")}`).verify(sent.body, {
        "webhook-id": sent.id,
        "webhook-timestamp": sent.timestamp,
        "webhook-signature": sent.signature,
      });
      forged = true;
    } catch {
      // refused: the signature is tied to the secret
    }
    assert.equal(forged, false, "another secret does not verify the alert");
    const data = sent.payload.data as Record<string, unknown>;
    assert.equal(data.rule, "auth_failures");
    assert.equal(data.threshold, 20);
    assert.ok((data.events as number) >= 20, `events: ${data.events}`);
    assert.ok(((data.by_code as Record<string, number>).INVALID_JWT) >= 20);
    assert.equal((data.window as { seconds: number }).seconds, 300);
    assert.equal(data.tenant_id, null);
    for (const ip of ips) assert.ok(!sent.body.includes(ip), "no client IP in the alert");
    assert.ok(!sent.body.includes(bad.split(".")[2]), "no token in the alert");

    // Within the backoff: not sent again.
    await t.deliver();
    assert.equal(ours().length, 1, "not retried before the backoff is over");

    // The backoff is over (moved as the database owner instead of waiting 30 s): still 500.
    await t.sql`update private.security_alerts set next_attempt_at = now() where id = ${alert.id}::uuid`;
    await t.deliver();
    assert.equal(ours().length, 2, "retried");
    const [second] = await t.sql`
        select attempts, next_attempt_at - last_attempt_at as wait from private.security_alerts where id = ${alert.id}::uuid`;
    assert.deepEqual(
      { attempts: second.attempts, wait: second.wait },
      { attempts: 2, wait: "00:01:00" },
      "the wait doubles",
    );

    // The receiver recovers.
    t.receiver.state.answer = 204;
    await t.sql`update private.security_alerts set next_attempt_at = now() where id = ${alert.id}::uuid`;
    const third = await t.deliver();
    assert.ok(third.delivered >= 1, JSON.stringify(third));
    const [done] = await t.sql`
        select status, attempts, last_status from private.security_alerts where id = ${alert.id}::uuid`;
    assert.deepEqual({ ...done }, { status: "delivered", attempts: 3, last_status: 204 });
    const attempts = ours();
    assert.equal(attempts.length, 3);
    assert.ok(
      attempts.every((r) => r.verified && r.id === sent.id && r.body === sent.body),
      "every attempt carries the same webhook-id and body, signed",
    );
    assert.deepEqual(attempts.map((r) => r.answered), [500, 500, 204]);

    // More failures in the same window, another run: no second alert.
    const more: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${functionsUrl}/audit/metrics`, {
        headers: { authorization: `Bearer ${bad}`, "x-forwarded-for": randomIp() },
      });
      more.push((await errorBody(res)).request_id);
    }
    await waitForEvents(t.sql, more);
    await t.deliver();
    assert.equal(ours().length, 3, "one alert per window: nothing new was sent");
    const [count] = await t.sql`
        select count(*)::int as n from private.security_alerts
        where rule = 'auth_failures' and subject = ${route} and detected_at >= ${started}`;
    assert.equal(count.n, 1, "one alert in the outbox");
  } finally {
    await t.stop();
  }
});

Deno.test("a tampered audit chain is alerted, signed, with its tenant and first broken link", async () => {
  const t = await setup();
  const slug = `alerts-${crypto.randomUUID().slice(0, 8)}`;
  const [tenant] = await t
    .sql`insert into public.tenants (slug, name) values (${slug}, 'Alerts test') returning id::text`;
  const tamper = async (operation: string) => {
    await t.sql.begin(async (tx) => {
      await tx`alter table public.audit_logs disable trigger user`;
      await tx`update public.audit_logs set operation = ${operation} where chain_id = ${tenant.id}::uuid and seq = 1`;
      await tx`alter table public.audit_logs enable trigger user`;
    });
  };
  try {
    t.receiver.state.answer = 200;
    await tamper("DELETE");
    const [check] = await t.sql`select valid from public.verify_audit_chain(${tenant.id}::uuid)`;
    assert.equal(check.valid, false, "the chain is broken");
    const report = await t.deliver();
    assert.ok(report.delivered >= 1, JSON.stringify(report));
    const got = t.receiver.received.filter((r) =>
      r.payload.type === "security.audit_chain" && r.payload.data.chain_id === tenant.id
    );
    assert.equal(got.length, 1, "one alert for the chain");
    assert.ok(got[0].verified, "standardwebhooks verified the signature");
    const data = got[0].payload.data;
    assert.equal(data.tenant_id, tenant.id);
    assert.equal(data.reason, "hash_mismatch");
    assert.equal(data.first_broken_seq, 1);
    await t.deliver();
    assert.equal(
      t.receiver.received.filter((r) =>
        r.payload.type === "security.audit_chain" && r.payload.data.chain_id === tenant.id
      )
        .length,
      1,
      "still broken, same window: not alerted again",
    );
  } finally {
    await tamper("INSERT");
    const [check] = await t.sql`select valid from public.verify_audit_chain(${tenant.id}::uuid)`;
    await t.stop();
    assert.equal(check.valid, true, "the chain is restored");
  }
});
