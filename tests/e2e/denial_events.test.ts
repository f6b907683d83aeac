// Identity denials (401/403 from the Gate) become auth_denied rows in
// public.security_events: one per (route, code, client IP) per minute, not
// one per request, and never with the token in them.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, functionsUrl, mintToken } from "./stack.ts";
import { randomIp } from "./probe_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const B = "bbbbbbbb-0000-4000-8000-000000000000";


type Row = { event_type: string; severity: string; request_id: string; actor_id: string | null; details: unknown };

/** The events for `ids`: waits (bounded) for `want` rows, then a little longer for stragglers. */
async function eventsFor(sql: postgres.Sql, ids: string[], want: number): Promise<Row[]> {
  const read = async () =>
    await sql<Row[]>`select event_type, severity, request_id, actor_id, details
                     from public.security_events where request_id = any(${ids}) order by occurred_at`;
  for (let i = 0; i < 100; i++) {
    if ((await read()).length >= want) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 200));
  return await read();
}

Deno.test("20 requests with a bad token to me write one auth_denied notice without the token", async () => {
  const ip = randomIp();
  const good = await mintToken({ sub: crypto.randomUUID() });
  const bad = good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA"); // signature no longer matches
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${functionsUrl}/me`, {
      headers: { authorization: `Bearer ${bad}`, "x-forwarded-for": ip },
    });
    const body = await errorBody(res);
    assert.equal(`${res.status} ${body.code}`, "401 INVALID_JWT", JSON.stringify(body));
    ids.push(body.request_id);
  }
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await eventsFor(sql, ids, 1);
    assert.equal(rows.length, 1, "exactly one event for 20 denials");
    const [row] = rows;
    assert.equal(row.request_id, ids[0], "the first denial is the one recorded");
    assert.equal(row.event_type, "auth_denied");
    assert.equal(row.severity, "notice");
    assert.equal(row.actor_id, null);
    const details = row.details as { code: string; reason: string; route: string };
    assert.equal(details.code, "INVALID_JWT");
    assert.equal(details.route, "GET /me");
    assert.deepEqual(Object.keys(details).sort(), ["code", "reason", "route"]);
    const text = JSON.stringify(row);
    for (const part of bad.split(".")) assert.ok(!text.includes(part), "no token part in the event");
    assert.ok(!text.includes(ip), "no IP in the event");
  } finally {
    await sql.end();
  }
});

Deno.test("a second client is recorded separately; a missing token is its own code", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const ids: string[] = [];
    for (const ip of [randomIp(), randomIp()]) {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${functionsUrl}/me`, { headers: { "x-forwarded-for": ip } });
        const body = await errorBody(res);
        assert.equal(`${res.status} ${body.code}`, "401 MISSING_CREDENTIALS");
        ids.push(body.request_id);
      }
    }
    const rows = await eventsFor(sql, ids, 2);
    assert.equal(rows.length, 2, "one per client");
    assert.deepEqual(rows.map((r) => r.request_id).sort(), [ids[0], ids[3]].sort());
    for (const r of rows) assert.equal((r.details as { code: string }).code, "MISSING_CREDENTIALS");
  } finally {
    await sql.end();
  }
});

Deno.test("admin of A listing B records a TENANT_MISMATCH warning", async () => {
  const ip = randomIp();
  const admin = await mintToken({
    sub: "aaaaaaaa-0000-4000-8000-000000000001",
    email: "admin@tenant-a.test",
    user_role: "admin",
    tenant_id: A,
  });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${functionsUrl}/admin-users/${B}/members`, {
      headers: { authorization: `Bearer ${admin}`, "x-forwarded-for": ip },
    });
    const body = await errorBody(res);
    assert.equal(`${res.status} ${body.code}`, "403 TENANT_MISMATCH", JSON.stringify(body));
    ids.push(body.request_id);
  }
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await eventsFor(sql, ids, 1);
    assert.equal(rows.length, 1, "one event for five denials");
    assert.equal(rows[0].event_type, "auth_denied");
    assert.equal(rows[0].severity, "warning");
    assert.equal(rows[0].actor_id, "aaaaaaaa-0000-4000-8000-000000000001", "the verified caller is the actor");
    const details = rows[0].details as { code: string; route: string };
    assert.equal(details.code, "TENANT_MISMATCH");
    assert.match(details.route, /admin-users|members/);
    assert.ok(!JSON.stringify(rows[0]).includes(admin.split(".")[2]), "no token signature in the event");
  } finally {
    await sql.end();
  }
});

Deno.test("an authorization denial for a verified sub that is no user of the project is recorded without an actor", async () => {
  const ip = randomIp();
  const stranger = await mintToken({ sub: crypto.randomUUID(), user_role: "admin", tenant_id: A });
  const res = await fetch(`${functionsUrl}/admin-users/${B}/members`, {
    headers: { authorization: `Bearer ${stranger}`, "x-forwarded-for": ip },
  });
  const body = await errorBody(res);
  assert.equal(`${res.status} ${body.code}`, "403 TENANT_MISMATCH", JSON.stringify(body));
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await eventsFor(sql, [body.request_id], 1);
    assert.equal(rows.length, 1, "the row is written even though actor_id cannot reference the sub");
    assert.equal(rows[0].actor_id, null);
    assert.equal((rows[0].details as { code: string }).code, "TENANT_MISMATCH");
  } finally {
    await sql.end();
  }
});
