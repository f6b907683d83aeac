// The audit function over HTTP (docs/database.md, "Audit API"): a tenant's
// admin pages through its audit log with filters, verifies its chain against
// the signed checkpoints, and reads hourly security metrics that count the
// denials just generated; a non-admin is refused, also with a token that
// claims audit:read (the membership decides).
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, functionsUrl, mintToken } from "./stack.ts";
import { randomIp } from "./probe_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const ADMIN_A = "aaaaaaaa-0000-4000-8000-000000000001";
const CUSTOMER_A = "aaaaaaaa-0000-4000-8000-000000000004";

const adminToken = () => mintToken({ sub: ADMIN_A, email: "admin@tenant-a.test", user_role: "admin", tenant_id: A });
const customerToken = (claims: Record<string, unknown> = {}) =>
  mintToken({ sub: CUSTOMER_A, email: "customer@tenant-a.test", user_role: "customer", tenant_id: A, ...claims });

function call(path: string, token: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  return fetch(`${functionsUrl}${path}`, { ...init, headers });
}

interface Page {
  tenant_id: string;
  items: { id: string; table: string; operation: string; actor_id: string; row_pk: Record<string, string> }[];
  next_before: string | null;
}

Deno.test("audit logs: keyset pages filtered by actor, table, action and time", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    // the database's clock: only this test's changes are after it (files run one at a time)
    const [{ start }] = await sql`select to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as start`;
    const id = crypto.randomUUID();
    await sql`insert into auth.users (id, aud, role, email)
              values (${id}, 'authenticated', 'authenticated', ${`audit-${id.slice(0, 8)}@tenant-a.test`})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${A}, ${id}, 'customer')`;
    const admin = await adminToken();
    for (const role of ["provider", "guest", "customer"]) {
      const res = await call(`/admin-users/${A}/members/${id}`, admin, {
        method: "PATCH",
        body: JSON.stringify({ role }),
      });
      assert.equal(res.status, 200, await res.text());
    }

    const filter = `actor=${ADMIN_A}&table=public.tenant_members&action=UPDATE&from=${encodeURIComponent(start)}`;
    const first = await call(`/audit/logs?${filter}&limit=2`, admin);
    assert.equal(first.status, 200, await first.clone().text());
    const p1: Page = await first.json();
    assert.equal(p1.tenant_id, A);
    assert.equal(p1.items.length, 2, "the first page holds the limit");
    assert.ok(p1.next_before, "a next page is announced");
    const second = await call(`/audit/logs?${filter}&limit=2&before=${p1.next_before}`, admin);
    const p2: Page = await second.json();
    assert.equal(p2.items.length, 1, "the second page holds the rest");
    assert.equal(p2.next_before, null, "and is the last");
    const all = [...p1.items, ...p2.items];
    const ids = all.map((r) => Number(r.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "newest first");
    assert.equal(new Set(ids).size, 3, "no row on two pages");
    for (const r of all) {
      assert.equal(`${r.table} ${r.operation} ${r.actor_id}`, `public.tenant_members UPDATE ${ADMIN_A}`);
      assert.equal(r.row_pk.user_id, id, "the rows are the three role changes");
    }
    const none = await (await call(`/audit/logs?${filter.replace("from=", "to=")}`, admin)).json() as Page;
    assert.ok(none.items.every((r) => r.row_pk?.user_id !== id), "`to` before the changes excludes them");
    const inserts = await (await call(`/audit/logs?table=tenant_members&action=INSERT&from=${encodeURIComponent(start)}`, admin))
      .json() as Page;
    assert.ok(inserts.items.some((r) => r.row_pk?.user_id === id && r.operation === "INSERT"), "the membership insert");

    const bad = await call("/audit/logs?action=DROP", admin);
    assert.equal(`${bad.status} ${(await errorBody(bad)).code}`, "422 VALIDATION_FAILED");
    const badTime = await call("/audit/logs?from=2026-13-45T00:00:00Z", admin);
    assert.equal(`${badTime.status} ${(await errorBody(badTime)).code}`, "422 VALIDATION_FAILED");
  } finally {
    await sql.end();
  }
});

Deno.test("audit verify: the tenant's chain and its signed checkpoints verify", async () => {
  const res = await call("/audit/verify", await adminToken());
  assert.equal(res.status, 200, await res.clone().text());
  const r = await res.json();
  assert.equal(r.tenant_id, A);
  assert.equal(r.valid, true, JSON.stringify(r));
  assert.equal(r.reason, null);
  assert.equal(r.rows_checked, r.head_seq, "every row up to the head was checked");
  assert.ok(r.checkpoints.count >= 1, "the function writes of this run were signed");
  assert.ok(r.checkpoints.last_seq <= r.head_seq, "the last checkpoint is within the chain");
});

Deno.test("audit: a non-admin gets 403 on every route, also claiming audit:read", async () => {
  const plain = await customerToken();
  const claiming = await customerToken({ permissions: ["audit:read"] });
  for (const path of ["/audit/logs", "/audit/verify", "/audit/metrics"]) {
    for (const [what, token] of [["customer", plain], ["customer claiming audit:read", claiming]]) {
      const res = await call(path, token);
      const body = await errorBody(res);
      assert.equal(`${res.status} ${body.code}`, "403 FORBIDDEN", `${what} on ${path}`);
    }
  }
  const noTenant = await mintToken({ sub: ADMIN_A, user_role: "admin" });
  const res = await call("/audit/verify", noTenant);
  assert.equal(res.status, 403, "a token without tenant reads nothing");
  await res.body?.cancel();
});

Deno.test("audit metrics: denials just generated are counted by route and code", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const admin = await adminToken();
    const count = async () => {
      await sql`select private.refresh_security_metrics()`; // what the scheduler runs
      const res = await call("/audit/metrics", admin);
      assert.equal(res.status, 200, await res.clone().text());
      const body = await res.json();
      assert.equal(body.tenant_id, A);
      return (body.metrics as { event_type: string; route: string; code: string; events: number }[])
        .filter((m) => m.event_type === "auth_denied" && m.route === "GET /audit/logs" && m.code === "FORBIDDEN")
        .reduce((n, m) => n + m.events, 0);
    };
    const before = await count();
    const customer = await customerToken();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call("/audit/logs", customer, { headers: { "x-forwarded-for": randomIp() } });
      const body = await errorBody(res);
      assert.equal(`${res.status} ${body.code}`, "403 FORBIDDEN");
      ids.push(body.request_id);
    }
    for (let i = 0; i < 100; i++) { // the guard writes events in the background
      const [{ n }] = await sql`select count(*)::int as n from public.security_events where request_id = any(${ids})`;
      if (n >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await count() - before, 3, "three denials, three events of tenant A");
  } finally {
    await sql.end();
  }
});
