// Rate-limit refusals become security_events rows: one per key and window
// under a flood, not one per request; no IP or credential stored.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl } from "./stack.ts";
import { assertError, probe, randomIp } from "./probe_support.ts";

async function eventsFor(sql: postgres.Sql, ids: string[], want: number) {
  // Events are written in the background after the 429 is sent: wait for the
  // expected rows (bounded), then make sure no more arrive with the stragglers.
  for (let i = 0; i < 100; i++) {
    const rows = await sql`select event_type, severity, request_id, details, ip, actor_id
                           from public.security_events where request_id = any(${ids})`;
    if (rows.length >= want) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await sql`select event_type, severity, request_id, details, ip, actor_id
                   from public.security_events where request_id = any(${ids})`;
}

Deno.test("a flood of 30 refused requests writes one rate_limited event", async () => {
  const ip = randomIp();
  const hit = () => fetch(probe(), { headers: { "x-forwarded-for": ip } });
  for (let i = 0; i < 5; i++) (await hit()).body?.cancel();
  const refused: string[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await hit();
    const body = await assertError(res, 429, "RATE_LIMITED");
    refused.push(body.request_id);
  }
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await eventsFor(sql, refused, 1);
    await new Promise((r) => setTimeout(r, 200));
    const again = await sql`select count(*)::int as n from public.security_events where request_id = any(${refused})`;
    assert.equal(again[0].n, 1, "exactly one event for the flood");
    assert.equal(rows[0].request_id, refused[0], "the first refusal is the one recorded");
    assert.equal(rows[0].event_type, "rate_limited");
    assert.equal(rows[0].severity, "warning");
    assert.deepEqual(rows[0].details, { route: "GET /request-probe", rule: "ip-min", retry_after_s: 12 });
    assert.equal(rows[0].ip, null, "no IP stored");
    assert.ok(!JSON.stringify(rows[0]).includes(ip), "the IP appears nowhere");
  } finally {
    await sql.end();
  }
});

Deno.test("a global (Postgres) refusal is recorded once too", async () => {
  const ip = randomIp();
  const hit = () => fetch(probe("/global"), { headers: { "x-forwarded-for": ip } });
  for (let i = 0; i < 20; i++) (await hit()).body?.cancel();
  const refused: string[] = [];
  for (let i = 0; i < 10; i++) refused.push((await assertError(await hit(), 429, "RATE_LIMITED")).request_id);
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await eventsFor(sql, refused, 1);
    await new Promise((r) => setTimeout(r, 200));
    const again = await sql`select count(*)::int as n from public.security_events where request_id = any(${refused})`;
    assert.equal(again[0].n, 1, "one event");
    assert.equal((rows[0].details as { rule: string }).rule, "global-ip");
  } finally {
    await sql.end();
  }
});
