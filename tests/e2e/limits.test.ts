// In-isolate rate limits over HTTP: exact counts, 429 with Retry-After and the
// IETF RateLimit headers, per-role limits, exempt health, separate keys.
import * as assert from "./assert.ts";
import { functionsUrl, mintToken } from "./stack.ts";
import { assertError, assertSecurityHeaders, probe, randomIp } from "./probe_support.ts";

Deno.test("local limit 5/min per IP: 5 pass with decreasing RateLimit, the 6th is 429 with Retry-After", async () => {
  const ip = randomIp();
  const hit = () => fetch(probe(), { headers: { "x-forwarded-for": ip } });
  for (let i = 1; i <= 5; i++) {
    const res = await hit();
    await res.body?.cancel();
    assert.equal(res.status, 200, `request ${i}`);
    assertSecurityHeaders(res, `request ${i}`);
    assert.equal(res.headers.get("ratelimit-policy"), '"ip-min";q=5;w=60, "ip-hour";q=1000;w=3600');
    assert.ok((res.headers.get("ratelimit") ?? "").startsWith(`"ip-min";r=${5 - i};t=`), res.headers.get("ratelimit") ?? "");
    assert.ok(!res.headers.has("retry-after"), "no Retry-After while allowed");
  }
  const res = await hit();
  await assertError(res, 429, "RATE_LIMITED");
  assert.equal(res.headers.get("retry-after"), "12", "one emission interval (60 s / 5)");
  assert.ok((res.headers.get("ratelimit") ?? "").startsWith('"ip-min";r=0;t='), "r=0");
  assert.equal(res.headers.get("ratelimit-policy"), '"ip-min";q=5;w=60, "ip-hour";q=1000;w=3600');
  // another client keeps its own quota
  const other = await fetch(probe(), { headers: { "x-forwarded-for": randomIp() } });
  await other.body?.cancel();
  assert.equal(other.status, 200, "another IP");
});

Deno.test("only the rightmost X-Forwarded-For entry counts: spoofed left entries share the bucket", async () => {
  const ip = randomIp();
  for (let i = 0; i < 5; i++) {
    const res = await fetch(probe(), { headers: { "x-forwarded-for": `${randomIp()}, ${ip}` } });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  }
  await assertError(await fetch(probe(), { headers: { "x-forwarded-for": `1.2.3.4, ${ip}` } }), 429, "RATE_LIMITED");
});

Deno.test("per-role limits: a customer gets 3/min, an admin 6/min, per user", async () => {
  for (const [role, limit] of [["customer", 3], ["admin", 6]] as const) {
    const token = await mintToken({ sub: crypto.randomUUID(), user_role: role });
    const hit = () => fetch(probe("/user"), { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": randomIp() } });
    for (let i = 1; i <= limit; i++) {
      const res = await hit();
      await res.body?.cancel();
      assert.equal(res.status, 200, `${role} request ${i}`);
      assert.ok((res.headers.get("ratelimit-policy") ?? "").includes(`"user-min";q=${limit};w=60`), `${role} policy`);
    }
    await assertError(await hit(), 429, "RATE_LIMITED");
  }
});

Deno.test("failed credentials still count by IP: brute force gets 429 after the quota", async () => {
  const ip = randomIp();
  const bad = () => fetch(probe("/user"), { headers: { authorization: "Bearer not.a.jwt", "x-forwarded-for": ip } });
  for (let i = 0; i < 4; i++) await assertError(await bad(), 401, "INVALID_JWT");
  await assertError(await bad(), 429, "RATE_LIMITED");
  // a valid token from the same IP is refused too: the IP rule applies to everyone
  const token = await mintToken({ sub: crypto.randomUUID() });
  await assertError(await fetch(probe("/user"), { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": ip } }), 429, "RATE_LIMITED");
});

Deno.test("health is never rate limited", async () => {
  const ip = randomIp();
  for (let i = 0; i < 80; i++) {
    const res = await fetch(`${functionsUrl}/health`, { headers: { "x-forwarded-for": ip } });
    await res.body?.cancel();
    assert.equal(res.status, 200, `health ${i}`);
    assert.ok(!res.headers.has("ratelimit"), "no RateLimit headers on health");
  }
});

Deno.test("unknown paths are limited by IP too (the default class)", async () => {
  const ip = randomIp();
  for (let i = 0; i < 5; i++) await assertError(await fetch(probe(`/nope-${i}`), { headers: { "x-forwarded-for": ip } }), 404, "NOT_FOUND");
  await assertError(await fetch(probe("/nope"), { headers: { "x-forwarded-for": ip } }), 429, "RATE_LIMITED");
});
