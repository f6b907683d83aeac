// Recipe "marketplace back office" end to end, over HTTP against the stack
// `npm test` starts (it serves examples/*/functions and applies
// examples/*/migrations): a user token on every call; customers see their own
// orders, agents their assigned ones, admins all (RLS); the policy's ladder
// admin > agent > customer; rate limits per group (60 / 300 / 1000 per
// minute) with 429 + Retry-After; SPEC error bodies; every write audited.
import * as assert from "../../tests/e2e/assert.ts";
import { functionsUrl, mintToken } from "../../tests/e2e/stack.ts";
import { assertError, randomIp } from "../../tests/e2e/probe_support.ts";
import { type Db, withDb } from "../../tests/e2e/webhooks_support.ts";

type Who = "admin" | "agent1" | "agent2" | "customer1" | "customer2";
const ROLE: Record<Who, string> = { admin: "admin", agent1: "agent", agent2: "agent", customer1: "customer", customer2: "customer" };

interface Market {
  tenant: string;
  ids: Record<Who, string>;
  token(who: Who): Promise<string>;
}

/** A fresh tenant with an admin, two agents and two customers (memberships as the access-token hook reads them). */
async function freshMarket(sql: Db): Promise<Market> {
  const tenant = crypto.randomUUID();
  await sql`insert into public.tenants (id, slug, name) values (${tenant}, ${`market-${tenant.slice(0, 8)}`}, 'Market')`;
  const ids = {} as Record<Who, string>;
  for (const who of Object.keys(ROLE) as Who[]) {
    const id = crypto.randomUUID();
    await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`${who}-${id}@market.test`})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenant}, ${id}, ${ROLE[who]})`;
    ids[who] = id;
  }
  return {
    tenant,
    ids,
    token: (who) => mintToken({ sub: ids[who], email: `${who}@market.test`, user_role: ROLE[who], tenant_id: tenant }),
  };
}

async function call(m: Market, who: Who | string, method: string, path: string, body?: unknown, ip = randomIp()) {
  const token = who in ROLE ? await m.token(who as Who) : who;
  return await fetch(`${functionsUrl}/marketplace/${m.tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": ip, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function json(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text);
}

/** Places two orders for customer1 and one for customer2; assigns o1 to agent1 and o3 to agent2. */
async function ordersOf(m: Market) {
  const o1 = (await json(await call(m, "customer1", "POST", "/orders", { total_cents: 1000, note: "o1" }), 201)).id;
  const o2 = (await json(await call(m, "customer1", "POST", "/orders", { total_cents: 2000, currency: "USD", note: "o2" }), 201)).id;
  const o3 = (await json(await call(m, "customer2", "POST", "/orders", { total_cents: 3000, note: "o3" }), 201)).id;
  await json(await call(m, "admin", "PUT", `/orders/${o1}/agent`, { agent_id: m.ids.agent1 }), 200);
  await json(await call(m, "admin", "PUT", `/orders/${o3}/agent`, { agent_id: m.ids.agent2 }), 200);
  return { o1, o2, o3 };
}

Deno.test("a valid user token on every route: none, expired or forged → 401 with the SPEC body", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const order = crypto.randomUUID();
    const routes: [string, string, unknown?][] = [
      ["GET", "/orders"], ["GET", `/orders/${order}`], ["POST", "/orders", { total_cents: 1 }],
      ["PATCH", `/orders/${order}`, { status: "paid" }], ["PUT", `/orders/${order}/agent`, { agent_id: null }],
    ];
    const expired = await mintToken({ sub: m.ids.admin, user_role: "admin", tenant_id: m.tenant }, { expiresIn: -600 });
    for (const [method, path, body] of routes) {
      const anonymous = await fetch(`${functionsUrl}/marketplace/${m.tenant}${path}`, {
        method, headers: { "x-forwarded-for": randomIp(), "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await assertError(anonymous, 401, "MISSING_CREDENTIALS");
      await assertError(await call(m, expired, method, path, body), 401, "INVALID_JWT");
      await assertError(await call(m, `${expired.slice(0, -4)}AAAA`, method, path, body), 401, "INVALID_JWT");
    }
  });
});

Deno.test("RLS over HTTP: customers see their own orders, agents their assigned ones, admins all", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const { o1, o2, o3 } = await ordersOf(m);
    const seen = async (who: Who) =>
      (await json(await call(m, who, "GET", "/orders"), 200)).orders.map((o: { note: string }) => o.note).sort().join(",");
    assert.equal(await seen("customer1"), "o1,o2");
    assert.equal(await seen("customer2"), "o3");
    assert.equal(await seen("agent1"), "o1");
    assert.equal(await seen("agent2"), "o3");
    assert.equal(await seen("admin"), "o1,o2,o3");
    const one = await json(await call(m, "customer1", "GET", `/orders/${o2}`), 200);
    assert.deepEqual([one.customer_id, one.total_cents, one.currency, one.status, one.assigned_agent_id], [m.ids.customer1, 2000, "USD", "pending", null]);
    // someone else's order looks exactly like a missing one
    await assertError(await call(m, "customer2", "GET", `/orders/${o1}`), 404, "NOT_FOUND");
    await assertError(await call(m, "agent2", "GET", `/orders/${o1}`), 404, "NOT_FOUND");
    await assertError(await call(m, "agent1", "GET", `/orders/${crypto.randomUUID()}`), 404, "NOT_FOUND");
    // another tenant's admin is refused before any query
    const other = await freshMarket(sql);
    const res = await fetch(`${functionsUrl}/marketplace/${m.tenant}/orders/${o3}`, {
      headers: { authorization: `Bearer ${await other.token("admin")}`, "x-forwarded-for": randomIp() },
    });
    await assertError(res, 403, "TENANT_MISMATCH");
  });
});

Deno.test("the ladder admin > agent > customer: who may update and assign", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const { o1, o2 } = await ordersOf(m);
    await assertError(await call(m, "customer1", "PATCH", `/orders/${o1}`, { status: "refunded" }), 403, "FORBIDDEN");
    await assertError(await call(m, "agent1", "PUT", `/orders/${o1}/agent`, { agent_id: m.ids.agent2 }), 403, "FORBIDDEN");
    await assertError(await call(m, "agent1", "PATCH", `/orders/${o2}`, { status: "shipped" }), 404, "NOT_FOUND");
    const shipped = await json(await call(m, "agent1", "PATCH", `/orders/${o1}`, { status: "shipped", note: "DHL 42" }), 200);
    assert.deepEqual([shipped.status, shipped.note], ["shipped", "DHL 42"]);
    await assertError(await call(m, "admin", "PUT", `/orders/${o2}/agent`, { agent_id: m.ids.customer2 }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "agent1", "PATCH", `/orders/${o1}`, { status: "lost" }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "customer1", "POST", "/orders", { total_cents: -1 }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "customer1", "POST", "/orders", { total_cents: 1, status: "paid" }), 422, "VALIDATION_FAILED");
    const admin = await json(await call(m, "admin", "PATCH", `/orders/${o2}`, { status: "cancelled" }), 200);
    assert.equal(admin.status, "cancelled", "the admin holds the agent's rights");
  });
});

Deno.test("audit: every write is in audit_logs with its actor and the request id", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const placed = await call(m, "customer1", "POST", "/orders", { total_cents: 1234, note: "audited" });
    const order = (await json(placed, 201)).id;
    const assigned = await call(m, "admin", "PUT", `/orders/${order}/agent`, { agent_id: m.ids.agent1 });
    await json(assigned, 200);
    const paid = await call(m, "agent1", "PATCH", `/orders/${order}`, { status: "paid" });
    await json(paid, 200);
    const rows = await sql`select operation, actor_id, request_id, tenant_id, new_record ->> 'status' as status,
                                  new_record ->> 'assigned_agent_id' as agent
                           from public.audit_logs where table_name = 'orders' and row_pk ->> 'id' = ${order} order by seq`;
    assert.deepEqual(rows.map((r) => [r.operation, r.actor_id, r.request_id, r.tenant_id, r.status, r.agent]), [
      ["INSERT", m.ids.customer1, placed.headers.get("x-request-id"), m.tenant, "pending", null],
      ["UPDATE", m.ids.admin, assigned.headers.get("x-request-id"), m.tenant, "pending", m.ids.agent1],
      ["UPDATE", m.ids.agent1, paid.headers.get("x-request-id"), m.tenant, "paid", m.ids.agent1],
    ]);
    const [chain] = await sql`select * from public.verify_audit_chain(${m.tenant})`;
    assert.equal(chain.valid, true, `the tenant's audit chain verifies: ${JSON.stringify(chain)}`);
  });
});

Deno.test("rate limits per group: customer 60/min, agent 300/min, admin 1000/min → 429 RATE_LIMITED + Retry-After", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    // A burst of n requests at once. A refused query still counts (limits run
    // first) and costs no database round trip.
    const burst = async (who: Who, n: number) => {
      const token = await m.token(who);
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: n }, () => call(m, token, "GET", "/orders?limit=0")));
      const elapsedS = (Date.now() - started) / 1000;
      const limited = responses.filter((r) => r.status === 429);
      for (const r of responses.filter((r) => r.status !== 429)) await r.body?.cancel();
      return { passed: n - limited.length, limited, elapsedS, others: [...new Set(responses.map((r) => r.status))] };
    };
    for (const [who, limit] of [["customer1", 60], ["agent1", 300]] as const) {
      const b = await burst(who, limit + 20);
      assert.deepEqual(b.others.sort(), [422, 429], `${who}: only refused queries and 429s`);
      // GCRA: the burst of `limit`, plus what the window refilled while the burst ran
      const refill = Math.ceil(b.elapsedS * limit / 60);
      assert.ok(b.passed >= limit && b.passed <= limit + refill, `${who}: ${b.passed} admitted, limit ${limit} (+${refill} refilled)`);
      assert.ok(b.limited.length > 0, `${who}: some refused`);
      await assertError(b.limited[0], 429, "RATE_LIMITED");
      for (const r of b.limited.slice(1)) await r.body?.cancel();
      const retryAfter = Number(b.limited[0].headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `${who}: Retry-After ${retryAfter}`);
      assert.match(b.limited[0].headers.get("ratelimit-policy") ?? "", new RegExp(`"group-min";q=${limit};w=60`));
    }
    // the admin's group allows 1000: 320 at once are all served
    const admin = await burst("admin", 320);
    assert.deepEqual([admin.passed, admin.others], [320, [422]]);
    const one = await call(m, "admin", "GET", "/orders");
    await one.body?.cancel();
    assert.equal(one.status, 200);
    assert.match(one.headers.get("ratelimit-policy") ?? "", /"group-min";q=1000;w=60/);
    // customer2 has a bucket of their own
    assert.equal((await call(m, "customer2", "GET", "/orders")).status, 200);
  });
});
