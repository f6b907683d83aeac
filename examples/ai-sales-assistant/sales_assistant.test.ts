// Recipe "AI sales assistant" end to end, over HTTP against the stack `npm
// test` starts (it serves examples/*/functions and applies
// examples/*/migrations): quotas per tenant exact under concurrency, 429
// QUOTA_EXCEEDED with the reset time, RBAC, rate limits per endpoint class,
// body validation, the CORS allow-list, the public lead form, Shopify
// deliveries signed with Shopify's HMAC.
import * as assert from "../../tests/e2e/assert.ts";
import { devKeys, functionsUrl, mintToken, root, startServer } from "../../tests/e2e/stack.ts";
import { assertError, randomIp } from "../../tests/e2e/probe_support.ts";
import { type Db, post, shopifySignature, stackSecrets, webhookRows, withDb } from "../../tests/e2e/webhooks_support.ts";

const fn = (path: string, base = functionsUrl) => `${base}/sales-assistant${path}`;

interface Shop {
  tenant: string;
  token(role: string): Promise<string>;
}

/** A fresh tenant on a plan of `units` per month, with one member per role. */
async function freshShop(sql: Db, units: number): Promise<Shop> {
  const tenant = crypto.randomUUID();
  const plan = `e2e-${tenant.slice(0, 8)}`;
  await sql`insert into public.tenants (id, slug, name) values (${tenant}, ${`shop-${tenant.slice(0, 8)}`}, 'Shop')`;
  await sql`insert into public.usage_plans (name, monthly_units) values (${plan}, ${units})`;
  await sql`insert into public.tenant_plans (tenant_id, plan) values (${tenant}, ${plan})`;
  const members: Record<string, string> = {};
  for (const role of ["admin", "moderator", "customer", "guest"]) {
    const id = crypto.randomUUID();
    await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`${role}-${id}@shop.test`})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenant}, ${id}, ${role})`;
    members[role] = id;
  }
  return {
    tenant,
    // the claims the access-token hook adds (supabase/migrations, custom_access_token_hook)
    token: (role) => mintToken({ sub: members[role], email: `${role}@shop.test`, user_role: role, tenant_id: tenant }),
  };
}

function chat(shop: Shop, token: string, body: unknown, ip = randomIp(), base = functionsUrl) {
  return fetch(fn(`/${shop.tenant}/chat`, base), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
  });
}

function usage(shop: Shop, token: string, query = "", ip = randomIp()) {
  return fetch(fn(`/${shop.tenant}/usage${query}`), { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": ip } });
}

/** The first instant of the next calendar month in UTC. */
function nextMonthUtc(): Date {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

Deno.test("quota: 20 parallel charges of 10 units against 100 → exactly 10 succeed; the counter says 100", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 100);
    const token = await shop.token("customer");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => chat(shop, token, { message: `question ${i}`, max_tokens: 10 })),
    );
    const bodies = await Promise.all(results.map((r) => r.json()));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 10, `statuses: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 10, `statuses: ${statuses}`);
    for (const b of bodies.filter((b) => b.code)) assert.equal(b.code, "QUOTA_EXCEEDED");
    const remaining = bodies.filter((b) => b.reply).map((b) => b.usage.remaining).sort((a, b) => a - b);
    assert.deepEqual(remaining, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90], "each admitted charge saw a distinct state");
    const [row] = await sql`select sum(used)::int as used from public.usage_counters where tenant_id = ${shop.tenant}`;
    assert.equal(row.used, 100);
  });
});

Deno.test("quota: a spent quota answers 429 QUOTA_EXCEEDED with Retry-After and details.reset_at; usage shows 0 left", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 50);
    const token = await shop.token("customer");
    const first = await chat(shop, token, { message: "hello", max_tokens: 30 });
    assert.equal(first.status, 200);
    const answer = await first.json();
    assert.equal(typeof answer.reply, "string");
    assert.deepEqual({ ...answer.usage, reset_at: undefined }, { plan: `e2e-${shop.tenant.slice(0, 8)}`, quota: 50, used: 30, remaining: 20, charged: 30, reset_at: undefined });

    const refused = await chat(shop, token, { message: "more", max_tokens: 21 });
    const body = await assertError(refused, 429, "QUOTA_EXCEEDED") as { details?: Record<string, unknown> };
    const reset = nextMonthUtc();
    assert.equal(body.details?.reset_at, reset.toISOString());
    assert.equal(body.details?.remaining, 20);
    assert.equal(body.details?.requested, 21);
    const retryAfter = Number(refused.headers.get("retry-after"));
    const expected = (reset.getTime() - Date.now()) / 1000;
    assert.ok(Math.abs(retryAfter - expected) < 30, `Retry-After ${retryAfter} ≈ ${expected} s until the reset`);

    // all or nothing: the refusal charged nothing, the 20 left can still be used
    assert.equal((await chat(shop, token, { message: "last", max_tokens: 20 })).status, 200);
    const u = await usage(shop, await shop.token("guest"));
    assert.equal(u.status, 200);
    assert.deepEqual(await u.json(), {
      tenant_id: shop.tenant, plan: `e2e-${shop.tenant.slice(0, 8)}`, quota: 50, used: 50, remaining: 0,
      period_start: new Date(Date.UTC(reset.getUTCFullYear(), reset.getUTCMonth() - 1, 1)).toISOString(),
      reset_at: reset.toISOString(),
    });
  });
});

Deno.test("RBAC and tenants: guests may not spend tokens, leads need moderator, another tenant is refused", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 100);
    const other = await freshShop(sql, 100);
    await assertError(await chat(shop, await shop.token("guest"), { message: "hi", max_tokens: 1 }), 403, "FORBIDDEN");
    await assertError(await chat(shop, await other.token("admin"), { message: "hi", max_tokens: 1 }), 403, "TENANT_MISMATCH");
    await assertError(await usage(shop, await other.token("customer")), 403, "TENANT_MISMATCH");
    const leads = (token: string) => fetch(fn(`/${shop.tenant}/leads`), { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": randomIp() } });
    await assertError(await leads(await shop.token("customer")), 403, "FORBIDDEN");
    const ok = await leads(await shop.token("moderator"));
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { leads: [] });
    await assertError(await fetch(fn(`/${shop.tenant}/usage`)), 401, "MISSING_CREDENTIALS");
    const [row] = await sql`select count(*)::int as n from public.usage_counters where tenant_id = ${shop.tenant}`;
    assert.equal(row.n, 0, "no refused request charged anything");
  });
});

Deno.test("body validation: the core refuses bad bodies before the handler charges anything", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 100);
    const token = await shop.token("customer");
    for (const bad of [{ message: "hi" }, { message: "hi", max_tokens: 0 }, { message: "hi", max_tokens: 1.5 },
      { message: "", max_tokens: 1 }, { message: "hi", max_tokens: 1, model: "gpt-99" }, { message: "hi", max_tokens: "10" }]) {
      await assertError(await chat(shop, token, bad), 422, "VALIDATION_FAILED");
    }
    const raw = await fetch(fn(`/${shop.tenant}/chat`), {
      method: "POST", body: "{not json",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-forwarded-for": randomIp() },
    });
    await assertError(raw, 400, "INVALID_BODY");
    const [row] = await sql`select count(*)::int as n from public.usage_counters where tenant_id = ${shop.tenant}`;
    assert.equal(row.n, 0);
  });
});

Deno.test("rate limits per endpoint class: standard 60/min and read 100/min per user, auth 5/min per IP → 429 RATE_LIMITED", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 100);
    const token = await shop.token("customer");
    // Bursts at once; refused bodies and queries count too (limits run before
    // the checks) and spend no quota. GCRA admits the burst of `limit` plus
    // what the window refilled while the burst ran.
    const burst = async (send: () => Promise<Response>, n: number, limit: number, what: string) => {
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: n }, send));
      const refill = Math.ceil((Date.now() - started) / 1000 * limit / 60);
      const limited = responses.filter((r) => r.status === 429);
      for (const r of responses.filter((r) => r.status !== 429)) await r.body?.cancel();
      const passed = n - limited.length;
      assert.ok(passed >= limit && passed <= limit + refill, `${what}: ${passed} admitted, limit ${limit} (+${refill} refilled)`);
      assert.ok(limited.length > 0, `${what}: some refused`);
      await assertError(limited[0], 429, "RATE_LIMITED");
      for (const r of limited.slice(1)) await r.body?.cancel();
      assert.ok(Number(limited[0].headers.get("retry-after")) >= 1, `${what}: Retry-After`);
      return limited[0];
    };
    const standard = await burst(() => chat(shop, token, { message: "x", max_tokens: 0 }), 70, 60, "standard");
    assert.match(standard.headers.get("ratelimit-policy") ?? "", /"standard-user";q=60;w=60/);
    // another class, another bucket: the same user still reads, up to 100
    const read = await burst(() => usage(shop, token, "?unknown=1"), 115, 100, "read");
    assert.match(read.headers.get("ratelimit-policy") ?? "", /"read-user";q=100;w=60/);
    const [row] = await sql`select count(*)::int as n from public.usage_counters where tenant_id = ${shop.tenant}`;
    assert.equal(row.n, 0, "no quota spent by refused requests");
  });
  // auth class: the public lead form, 5 per minute per IP
  const { env } = await devKeys();
  const ip = randomIp();
  const lead = () => fetch(fn("/leads"), {
    method: "POST",
    headers: { apikey: env.SUPABASE_PUBLISHABLE_KEY, "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify({ tenant_id: crypto.randomUUID(), email: "lee@example.com", name: "Lee" }),
  });
  for (let i = 0; i < 5; i++) await assertError(await lead(), 404, "NOT_FOUND");
  const sixth = await lead();
  await assertError(sixth, 429, "RATE_LIMITED");
  assert.match(sixth.headers.get("ratelimit-policy") ?? "", /"auth-ip";q=5;w=60/);
});

Deno.test("public lead form: publishable key required, body checked, stored for the tenant's moderators only", async () => {
  await withDb(async (sql) => {
    const shop = await freshShop(sql, 100);
    const { env } = await devKeys();
    const send = (headers: Record<string, string>, body: unknown) => fetch(fn("/leads"), {
      method: "POST", body: JSON.stringify(body),
      headers: { "content-type": "application/json", "x-forwarded-for": randomIp(), ...headers },
    });
    const lead = { tenant_id: shop.tenant, email: "lee@example.com", name: "Lee", message: "Do you ship to Lyon?" };
    await assertError(await send({}, lead), 401, "MISSING_CREDENTIALS");
    await assertError(await send({ apikey: "sb_publishable_wrong" }, lead), 401, "INVALID_API_KEY");
    const key = { apikey: env.SUPABASE_PUBLISHABLE_KEY };
    await assertError(await send(key, { ...lead, email: "not-an-email" }), 422, "VALIDATION_FAILED");
    await assertError(await send(key, { ...lead, status: "won" }), 422, "VALIDATION_FAILED");
    const created = await send(key, lead);
    assert.equal(created.status, 201);
    const { id } = await created.json();
    const list = await fetch(fn(`/${shop.tenant}/leads`), {
      headers: { authorization: `Bearer ${await shop.token("moderator")}`, "x-forwarded-for": randomIp() },
    });
    const { leads } = await list.json();
    assert.deepEqual(leads.map((l: { id: string; message: string }) => [l.id, l.message]), [[id, lead.message]]);
  });
});

Deno.test("CORS allow-list: the shop's origin gets CORS headers, any other none (and its preflight 403)", async () => {
  const server = await startServer({
    CORS_ORIGINS: "https://shop.example.com",
    EDGEGUARD_EXTRA_FUNCTIONS_DIRS: `${root}/examples/ai-sales-assistant/functions`,
    EDGEGUARD_QUIET: "1",
  });
  try {
    await withDb(async (sql) => {
      const shop = await freshShop(sql, 100);
      const token = await shop.token("customer");
      const base = `${server.url}/functions/v1`;
      for (const [origin, allowed] of [["https://shop.example.com", true], ["https://evil.example", false], ["https://shop.example.com.evil.test", false], ["null", false]] as const) {
        const res = await fetch(fn(`/${shop.tenant}/usage`, base), { headers: { authorization: `Bearer ${token}`, origin, "x-forwarded-for": randomIp() } });
        await res.body?.cancel();
        assert.equal(res.status, 200, origin);
        assert.equal(res.headers.get("access-control-allow-origin"), allowed ? origin : null, origin);
        const pre = await fetch(fn(`/${shop.tenant}/chat`, base), {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
        });
        if (allowed) {
          await pre.body?.cancel();
          assert.equal(pre.status, 204, `${origin} preflight`);
          assert.equal(pre.headers.get("access-control-allow-origin"), origin);
          assert.equal(pre.headers.get("access-control-allow-methods"), "GET, POST", "the policy narrows the methods");
        } else {
          await assertError(pre, 403, "ORIGIN_NOT_ALLOWED");
          assert.equal(pre.headers.get("access-control-allow-origin"), null);
        }
      }
    });
  } finally {
    await server.stop();
  }
});

Deno.test("Shopify: the store's order webhooks reach the webhooks function only with Shopify's HMAC", async () => {
  const secrets = await stackSecrets();
  const id = crypto.randomUUID();
  const body = JSON.stringify({ id: Number(String(Date.now()).slice(-9)), email: "buyer@example.com", total_price: "42.00", line_items: [] });
  const headers = { "x-shopify-webhook-id": id, "x-shopify-topic": "orders/create", "x-shopify-shop-domain": "shop.myshopify.com" };
  const forged = await post(`${functionsUrl}/webhooks/shopify`, body, { ...headers, "x-shopify-hmac-sha256": shopifySignature(body, "not-the-shop-secret-000000000000") });
  assert.equal(`${forged.status} ${forged.body.code}`, "401 INVALID_SIGNATURE");
  const signed = await post(`${functionsUrl}/webhooks/shopify`, body, { ...headers, "x-shopify-hmac-sha256": shopifySignature(body, secrets.SHOPIFY_WEBHOOK_SECRET) });
  assert.equal(signed.status, 200, JSON.stringify(signed.body));
  assert.equal(signed.body.duplicate, false);
  const rows = await withDb((sql) => webhookRows(sql, "shopify", id));
  assert.deepEqual(rows.map((r) => [r.event_type, r.status]), [["orders/create", "processed"]]);
});
