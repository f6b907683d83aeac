// Recipe "creator SaaS backend" end to end, over HTTP against the stack `npm
// test` starts (it serves examples/*/functions and applies
// examples/*/migrations): Supabase access tokens with a creator row created on
// the first call; ADMIN_EMAILS; per-IP limits 60/min and 1000/h with `health`
// exempt; API keys acting as their owner under RLS; Stripe deliveries signed
// by stripe-node, refused outside the timestamp tolerance, logged once per
// event id; audit rows carrying the trusted client IP.
import * as assert from "../../tests/e2e/assert.ts";
import { devKeys, functionsUrl, mintToken, startServer } from "../../tests/e2e/stack.ts";
import { assertError, randomIp } from "../../tests/e2e/probe_support.ts";
import { type Db, freshSecret, now, post, stackSecrets, stripeHeader, uid, withDb } from "../../tests/e2e/webhooks_support.ts";

const api = (path: string, base = functionsUrl) => `${base}/creator-saas${path}`;
const stripeUrl = `${functionsUrl}/creator-billing/stripe`;

interface Creator {
  id: string;
  email: string;
  token(claims?: Record<string, unknown>): Promise<string>;
}

/** A fresh Supabase Auth user (no creator row yet): what sign-up leaves behind. */
async function freshUser(sql: Db, email = `creator-${crypto.randomUUID()}@creators.test`): Promise<Creator> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${email})`;
  // the claims Supabase Auth issues; the access-token hook adds no role or tenant for a user without membership
  return { id, email, token: (claims = {}) => mintToken({ sub: id, email, ...claims }) };
}

type Credential = { token: string } | { key: string } | Record<string, never>;

async function call(path: string, cred: Credential, init: { method?: string; body?: unknown; ip?: string; xff?: string; base?: string } = {}) {
  const headers: Record<string, string> = { "x-forwarded-for": init.xff ?? init.ip ?? randomIp() };
  if ("token" in cred) headers.authorization = `Bearer ${cred.token}`;
  if ("key" in cred) headers["x-api-key"] = cred.key;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return await fetch(api(path, init.base), {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function json(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text);
}

Deno.test("Supabase JWT on every route but health; the first call creates the creator row, once, under RLS and audited", async () => {
  await withDb(async (sql) => {
    const ann = await freshUser(sql);
    await assertError(await call("/me", {}), 401, "MISSING_CREDENTIALS");
    await assertError(await call("/posts", { token: await ann.token({}).then((t) => `${t.slice(0, -4)}AAAA`) }), 401, "INVALID_JWT");
    await assertError(await call("/me", { token: await mintToken({ sub: ann.id, email: ann.email }, { expiresIn: -600 }) }), 401, "INVALID_JWT");
    assert.equal((await sql`select 1 from public.creators where id = ${ann.id}`).length, 0, "no creator row before the first call");

    // six first calls at once (a client opening several tabs): one row, one audited insert
    const token = await ann.token();
    const firsts = await Promise.all(Array.from({ length: 6 }, () => call("/me", { token })));
    const answers = await Promise.all(firsts.map((r) => json(r, 200)));
    assert.equal(answers.filter((a) => a.created).length, 1, "exactly one call created the row");
    for (const a of answers) {
      assert.deepEqual([a.creator.id, a.creator.plan, a.creator.subscription_status, a.via], [ann.id, "free", "none", "user"]);
    }
    assert.equal((await json(await call("/me", { token }), 200)).created, false);
    const audited = await sql`select actor_id, operation from public.audit_logs where table_name = 'creators' and row_pk ->> 'id' = ${ann.id}`;
    assert.deepEqual(audited.map((r) => [r.operation, r.actor_id]), [["INSERT", ann.id]]);

    // a post as the first call of another user provisions them too
    const bob = await freshUser(sql);
    const post = await json(await call("/posts", { token: await bob.token() }, { method: "POST", body: { title: "hello" } }), 201);
    assert.equal(post.creator_id, bob.id);
    await assertError(await call("/posts", { token: await bob.token() }, { method: "POST", body: { title: "" } }), 422, "VALIDATION_FAILED");
    await assertError(await call("/posts", { token: await bob.token() }, { method: "POST", body: { title: "x", creator_id: ann.id } }), 422, "VALIDATION_FAILED");

    // RLS: each sees their own posts only
    const seen = async (c: Creator) => (await json(await call("/posts", { token: await c.token() }), 200)).posts.map((p: { title: string }) => p.title);
    assert.deepEqual(await seen(ann), []);
    assert.deepEqual(await seen(bob), ["hello"]);

    // a valid token whose account is gone
    await assertError(await call("/me", { token: await mintToken({ sub: crypto.randomUUID() }) }), 403, "FORBIDDEN");
    // health needs nothing
    assert.deepEqual(await json(await call("/health", {}), 200), { ok: true });
  });
});

/** A Web Crypto HMAC-SHA256 of `message` under `secret`, hex. */
async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("API keys: stored as an HMAC only; a key acts as its owner under RLS; broken, revoked and user-only routes refuse it", async () => {
  await withDb(async (sql) => {
    const ann = await freshUser(sql);
    const bob = await freshUser(sql);
    const annToken = await ann.token();
    await json(await call("/posts", { token: await bob.token() }, { method: "POST", body: { title: "bob's" } }), 201);

    const created = await fetch(`${functionsUrl}/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${annToken}`, "content-type": "application/json", "x-forwarded-for": randomIp() },
      body: JSON.stringify({ name: "publishing script", scopes: ["public:read"] }),
    });
    const { key, id: keyId } = await json(created, 201);
    assert.match(key, /^egk_test_[0-9A-Za-z]{38}$/);
    const [stored] = await sql`select key_hash, prefix from public.api_keys where id = ${keyId}`;
    assert.equal(stored.key_hash, await hmacHex((await devKeys()).env.SECRET_KEY, key), "key_hash = HMAC-SHA256(SECRET_KEY, key)");
    assert.ok(key.startsWith(stored.prefix) && !JSON.stringify(stored).includes(key), "the plaintext is not stored");

    // the key's first call provisions the owner's creator row, and says it came by key
    const me = await json(await call("/me", { key }), 200);
    assert.deepEqual([me.creator.id, me.created, me.via], [ann.id, true, "apikey"]);
    const posted = await call("/posts", { key }, { method: "POST", body: { title: "by key" } });
    const post = await json(posted, 201);
    assert.equal(post.creator_id, ann.id);
    // RLS as the owner: Ann's post, not Bob's; Authorization: Bearer egk_… works too
    const bearer = await fetch(api("/posts"), { headers: { authorization: `Bearer ${key}`, "x-forwarded-for": randomIp() } });
    assert.deepEqual((await json(bearer, 200)).posts.map((p: { title: string }) => p.title), ["by key"]);
    const [audit] = await sql`select actor_id, request_id from public.audit_logs where table_name = 'posts' and row_pk ->> 'id' = ${post.id}`;
    assert.deepEqual([audit.actor_id, audit.request_id], [ann.id, posted.headers.get("x-request-id")]);

    // refused before any I/O: a mistyped key (checksum), a random string of the right shape
    const typo = key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21);
    await assertError(await call("/me", { key: typo }), 401, "INVALID_API_KEY");
    await assertError(await call("/me", { key: `egk_test_${"A".repeat(38)}` }), 401, "INVALID_API_KEY");
    // the staff route takes user tokens only
    await assertError(await call("/admin/creators", { key }), 401, "INVALID_API_KEY");

    // revoked: refused everywhere within a second (the longest a verification is reused)
    const revoked = await fetch(`${functionsUrl}/api-keys/${keyId}`, {
      method: "DELETE", headers: { authorization: `Bearer ${annToken}`, "x-forwarded-for": randomIp() },
    });
    assert.equal(revoked.status, 204);
    await new Promise((r) => setTimeout(r, 1100));
    await assertError(await call("/posts", { key }), 401, "INVALID_API_KEY");
  });
});

Deno.test("IP limits: 60/min and 1000/h per client IP (RateLimit headers), 429 + Retry-After, health exempt", async () => {
  await withDb(async (sql) => {
    const ann = await freshUser(sql);
    const bob = await freshUser(sql);
    const ip = randomIp();
    const tokens = [await ann.token(), await bob.token()];
    // `?limit=0` fails the query schema: refused without a database round trip, still counted
    const first = await call("/posts?limit=0", { token: tokens[0] }, { ip });
    await assertError(first, 422, "VALIDATION_FAILED");
    assert.equal(first.headers.get("ratelimit-policy"), `"ip-min";q=60;w=60, "ip-hour";q=1000;w=3600`);
    assert.match(first.headers.get("ratelimit") ?? "", /^"ip-min";r=59;t=\d+, "ip-hour";r=999;t=\d+$/);

    // two users behind the same IP share its buckets
    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 70 }, (_, i) => call("/posts?limit=0", { token: tokens[i % 2] }, { ip })));
    const elapsedS = (Date.now() - started) / 1000;
    const limited = burst.filter((r) => r.status === 429);
    for (const r of burst.filter((r) => r.status !== 429)) await r.body?.cancel();
    assert.deepEqual([...new Set(burst.map((r) => r.status))].sort(), [422, 429]);
    const passed = 1 + burst.length - limited.length;
    // GCRA: the burst of 60, plus what the minute refilled while the burst ran
    const refill = Math.ceil(elapsedS);
    assert.ok(passed >= 60 && passed <= 60 + refill, `${passed} admitted (limit 60, +${refill} refilled)`);
    const refusal = await assertError(limited[0], 429, "RATE_LIMITED");
    assert.ok(refusal.message.length > 0);
    const retryAfter = Number(limited[0].headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    for (const r of limited.slice(1)) await r.body?.cancel();
    // a valid request from the same IP is refused too, whoever sends it
    await assertError(await call("/me", { token: tokens[1] }, { ip }), 429, "RATE_LIMITED");
    // after Retry-After the next one passes: the hour counted every admitted
    // request (this one included) and none of the refused ones
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    const next = await call("/me", { token: tokens[1] }, { ip });
    assert.equal((await json(next, 200)).creator.id, bob.id);
    const hourLeft = Number(/"ip-hour";r=(\d+)/.exec(next.headers.get("ratelimit") ?? "")?.[1]);
    // (+1: the hour refills 1000/3600 per second while the test runs)
    assert.ok(hourLeft >= 1000 - passed - 1 && hourLeft <= 1000 - passed, `ip-hour remaining ${hourLeft} after ${passed + 1} admitted`);

    // health is exempt: served, without RateLimit headers, however often
    for (let i = 0; i < 5; i++) {
      const h = await call("/health", {}, { ip });
      assert.equal(h.status, 200);
      assert.equal(h.headers.get("ratelimit-policy"), null);
      await h.body?.cancel();
    }
    // another IP has its own buckets
    assert.equal((await json(await call("/me", { token: tokens[1] }), 200)).creator.id, bob.id);
  });
});

Deno.test("ADMIN_EMAILS: the listed e-mail holds the admin rung (case-insensitive), nobody else, never an anonymous user", async () => {
  await withDb(async (sql) => {
    const boss = await freshUser(sql, `boss-${crypto.randomUUID()}@creator-saas.test`);
    const ann = await freshUser(sql);
    await json(await call("/me", { token: await ann.token() }), 200);
    // the stack has no ADMIN_EMAILS: the boss is a creator like any other
    await assertError(await call("/admin/creators", { token: await boss.token() }), 403, "FORBIDDEN");

    const server = await startServer({ ADMIN_EMAILS: `someone@else.test, ${boss.email.toUpperCase()}` });
    try {
      const base = `${server.url}/functions/v1`;
      const list = await json(await call("/admin/creators?plan=free", { token: await boss.token() }, { base }), 200);
      assert.ok(list.creators.some((c: { id: string }) => c.id === ann.id), "the admin sees every creator");
      await assertError(await call("/admin/creators", { token: await ann.token() }, { base }), 403, "FORBIDDEN");
      // an anonymous session cannot claim the address
      await assertError(await call("/admin/creators", { token: await boss.token({ is_anonymous: true }) }, { base }), 403, "FORBIDDEN");
      // a token claiming the role instead of the e-mail is just another creator's: only the ladder's rung counts
      await assertError(await call("/admin/creators", { token: await ann.token({ user_role: "moderator" }) }, { base }), 403, "FORBIDDEN");
    } finally {
      await server.stop();
    }
  });
});

/** A subscription event as Stripe sends it (API object shape), for `creatorId` (Stripe customer `cus_<creator id>`). */
function subscriptionEvent(type: string, creatorId: string, status: string, created = now()) {
  const id = uid("evt_");
  const customer = `cus_${creatorId.replaceAll("-", "")}`;
  const body = JSON.stringify({
    id, object: "event", type, created, livemode: false, api_version: "2025-10-29.clover",
    data: { object: { id: "sub_recipe", object: "subscription", customer, status, metadata: { creator_id: creatorId } } },
  });
  return { id, body };
}

Deno.test("Stripe: signed by stripe-node, within the tolerance, logged once per event id; the creator's plan follows", async () => {
  await withDb(async (sql) => {
    const ann = await freshUser(sql);
    const token = await ann.token();
    await json(await call("/me", { token }), 200);
    const secret = (await stackSecrets()).STRIPE_WEBHOOK_SECRET;
    const send = async (body: string, timestamp?: number, s = secret) =>
      await post(stripeUrl, body, { "stripe-signature": await stripeHeader(body, s, timestamp), "x-forwarded-for": randomIp() });
    const logged = async (id: string) => [...await sql`select event_type, creator_id, applied, request_id from public.creator_billing_events where event_id = ${id}`];

    const t0 = now();
    const created = subscriptionEvent("customer.subscription.created", ann.id, "active", t0 - 30);
    const first = await send(created.body);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { received: true, duplicate: false, applied: true });
    const me = await json(await call("/me", { token }), 200);
    assert.deepEqual([me.creator.plan, me.creator.subscription_status, me.creator.stripe_customer_id], ["pro", "active", `cus_${ann.id.replaceAll("-", "")}`]);
    assert.deepEqual(await logged(created.id), [{ event_type: "customer.subscription.created", creator_id: ann.id, applied: true, request_id: first.requestId }]);

    // redelivery (Stripe retries; a replay inside the tolerance): answered, changes nothing
    const again = await send(created.body);
    assert.deepEqual([again.status, again.body], [200, { received: true, duplicate: true, applied: false }]);
    assert.equal((await logged(created.id)).length, 1);
    // eight deliveries of one new event at once: one is applied, seven are duplicates
    const raced = subscriptionEvent("customer.subscription.updated", ann.id, "active", t0 - 25);
    const header = await stripeHeader(raced.body, secret);
    const race = await Promise.all(Array.from({ length: 8 }, () => post(stripeUrl, raced.body, { "stripe-signature": header, "x-forwarded-for": randomIp() })));
    assert.deepEqual(race.map((r) => r.status), Array(8).fill(200));
    assert.equal(race.filter((r) => r.body.duplicate === false).length, 1, JSON.stringify(race.map((r) => r.body)));
    assert.equal((await logged(raced.id)).length, 1);

    // the tolerance (WEBHOOK_TIMESTAMP_TOLERANCE, 300 s by default): 4 minutes late passes, 10 minutes late or ahead does not
    const late = subscriptionEvent("customer.subscription.updated", ann.id, "past_due", t0 - 20);
    assert.equal((await send(late.body, now() - 240)).status, 200);
    const stale = subscriptionEvent("customer.subscription.deleted", ann.id, "canceled", t0 - 10);
    for (const ts of [now() - 600, now() + 600]) {
      const refused = await send(stale.body, ts);
      assert.deepEqual([refused.status, refused.body.code], [401, "INVALID_SIGNATURE"]);
    }
    // a wrong secret, a tampered body, no signature
    const wrong = await send(stale.body, undefined, freshSecret.stripe());
    assert.deepEqual([wrong.status, wrong.body.code], [401, "INVALID_SIGNATURE"]);
    const signed = await stripeHeader(stale.body, secret);
    const tampered = await post(stripeUrl, stale.body.replace(ann.id, crypto.randomUUID()), { "stripe-signature": signed });
    assert.deepEqual([tampered.status, tampered.body.code], [401, "INVALID_SIGNATURE"]);
    const unsigned = await post(stripeUrl, stale.body, {});
    assert.deepEqual([unsigned.status, unsigned.body.code], [401, "INVALID_SIGNATURE"]);
    assert.equal((await logged(stale.id)).length, 0, "no refused delivery is logged");
    assert.equal((await json(await call("/me", { token }), 200)).creator.subscription_status, "past_due");

    // a stale event (older `created`) arriving after a newer one is logged but not applied
    const older = subscriptionEvent("customer.subscription.updated", ann.id, "incomplete", t0 - 60);
    assert.deepEqual((await send(older.body)).body, { received: true, duplicate: false, applied: false });
    const deleted = subscriptionEvent("customer.subscription.deleted", ann.id, "canceled", t0);
    assert.deepEqual((await send(deleted.body)).body, { received: true, duplicate: false, applied: true });
    const after = await json(await call("/me", { token }), 200);
    assert.deepEqual([after.creator.plan, after.creator.subscription_status], ["free", "canceled"]);
    // the creator's state changes are audited as the service, with the delivery's client IP
    const changes = await sql`select new_record ->> 'subscription_status' as status, actor_id, host(client_ip) as ip from public.audit_logs
                              where table_name = 'creators' and operation = 'UPDATE' and row_pk ->> 'id' = ${ann.id} order by seq`;
    assert.deepEqual(changes.map((c) => c.status), ["active", "active", "past_due", "canceled"]);
    assert.ok(changes.every((c) => c.actor_id === null && /^11\./.test(c.ip)), `no user acted; the delivery's IP: ${JSON.stringify(changes)}`);
    // a body that is not an event (schema checked once signed)
    const notEvent = JSON.stringify({ id: uid("evt_"), type: "x" });
    const bad = await post(stripeUrl, notEvent, { "stripe-signature": await stripeHeader(notEvent, secret) });
    assert.deepEqual([bad.status, bad.body.code], [422, "VALIDATION_FAILED"]);
  });
});

Deno.test("audit: every write carries the trusted client IP, the request id and the actor", async () => {
  await withDb(async (sql) => {
    const ann = await freshUser(sql);
    const token = await ann.token();
    const ip = randomIp();
    // the client can prepend anything; the entry the trusted proxy appended is the one recorded
    const res = await call("/posts", { token }, { method: "POST", body: { title: "audited" }, xff: `198.51.100.66, ${ip}` });
    const post = await json(res, 201);
    const rows = await sql`select table_name, operation, actor_id, host(client_ip) as ip, request_id, user_agent from public.audit_logs
                           where request_id = ${res.headers.get("x-request-id")} order by seq`;
    assert.deepEqual(rows.map((r) => [r.table_name, r.operation, r.actor_id, r.ip]), [
      ["creators", "INSERT", ann.id, ip],
      ["posts", "INSERT", ann.id, ip],
    ]);
    assert.ok(rows.every((r) => typeof r.user_agent === "string" && r.user_agent.length > 0), "with the user agent");
    assert.equal((await sql`select 1 from public.audit_logs where table_name = 'posts' and row_pk ->> 'id' = ${post.id}`).length, 1);
    const [chain] = await sql`select * from public.verify_audit_chain(null)`;
    assert.equal(chain.valid, true, `the tenant-less audit chain verifies: ${JSON.stringify(chain)}`);
  });
});
