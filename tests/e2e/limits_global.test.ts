// The Postgres limiter over HTTP: exact under 64 concurrent requests spread
// over two server processes (two isolates, one database); 503 UNAVAILABLE
// when the database is down (the probe's limits fail closed).
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, freePort, functionsUrl, startServer } from "./stack.ts";
import { assertError, probe, randomIp } from "./probe_support.ts";

const LIMIT = 20; // supabase/functions/request-probe/policy.json, rule global-ip

Deno.test("global limit is exact: 64 concurrent requests over two servers, exactly 20 pass", async () => {
  const second = await startServer({ EDGEGUARD_QUIET: "1" });
  try {
    const ip = randomIp();
    const bases = [functionsUrl, `${second.url}/functions/v1`];
    const results = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const res = await fetch(probe("/global", bases[i % 2]), { headers: { "x-forwarded-for": ip } });
      const text = await res.text();
      return { i, status: res.status, headers: res.headers, text };
    }));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(ok.length, LIMIT, `allowed: ${results.map((r) => r.status).join(",")}`);
    assert.equal(limited.length, 64 - LIMIT, "refused");
    // both servers asked the same limiter: every answer carries its state
    for (const r of results) assert.ok((r.headers.get("ratelimit") ?? "").includes('"global-ip";'), `request ${r.i}`);
    for (const r of limited) {
      assert.equal(JSON.parse(r.text).code, "RATE_LIMITED");
      const retry = Number(r.headers.get("retry-after"));
      assert.ok(retry >= 1 && retry <= 180, `Retry-After ${retry} (one emission interval: 3600 s / 20)`);
      assert.ok((r.headers.get("ratelimit") ?? "").includes('"global-ip";r=0;'), r.headers.get("ratelimit") ?? "");
    }
    // the first admitted saw 19 left, the last 0 (a check that waited for the row lock is
    // judged at its start time, so neighbours may report the same count: never a higher one)
    const remaining = ok.map((r) => Number(/"global-ip";r=(\d+)/.exec(r.headers.get("ratelimit") ?? "")?.[1]));
    assert.equal(Math.max(...remaining), LIMIT - 1, `remaining ${remaining}`);
    assert.equal(Math.min(...remaining), 0, `remaining ${remaining}`);
    // and the 65th, on either server, is refused
    for (const base of bases) {
      await assertError(await fetch(probe("/global", base), { headers: { "x-forwarded-for": ip } }), 429, "RATE_LIMITED");
    }
  } finally {
    await second.stop();
  }
});

Deno.test("global limit state holds only opaque keys", async () => {
  const ip = randomIp();
  const res = await fetch(probe("/global"), { headers: { "x-forwarded-for": ip } });
  await res.body?.cancel();
  assert.equal(res.status, 200);
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select key from private.rate_limits where key like 'global-ip:%'`;
    assert.ok(rows.length >= 1, "state rows exist");
    for (const r of rows) {
      assert.ok(/^global-ip:[0-9a-f]{32}$/.test(r.key), r.key);
      assert.ok(!r.key.includes(ip), "no IP in clear");
    }
  } finally {
    await sql.end();
  }
});

Deno.test("database down: global limits and handler queries answer 503 UNAVAILABLE, local-only routes still work", async () => {
  const dead = `postgresql://postgres:postgres@127.0.0.1:${freePort()}/postgres`;
  const server = await startServer({ SUPABASE_DB_URL: dead, EDGEGUARD_QUIET: "1" });
  try {
    const base = `${server.url}/functions/v1`;
    const res = await fetch(probe("/global", base), { headers: { "x-forwarded-for": randomIp() } });
    const body = await assertError(res, 503, "UNAVAILABLE");
    assert.ok(!JSON.stringify(body).includes(dead), "no connection string");
    // a handler whose query cannot reach the database: 503, not 500, no driver text
    const db = await fetch(probe("/db", base), { headers: { "x-forwarded-for": randomIp() } });
    await assertError(db, 503, "UNAVAILABLE");
    const local = await fetch(probe("", base), { headers: { "x-forwarded-for": randomIp() } });
    await local.body?.cancel();
    assert.equal(local.status, 200, "a route without global rules needs no database");
    assert.ok(server.output().includes("rate limiter database unavailable"), "one warning logged");
    assert.ok(!server.output().includes(dead), "the URL is not logged");
  } finally {
    await server.stop();
  }
});
