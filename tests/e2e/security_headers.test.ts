// Security headers, x-request-id and CORS over HTTP, on success and on every
// kind of error response, for every function.
import * as assert from "./assert.ts";
import { functionsUrl, mintToken, startServer } from "./stack.ts";
import { assertError, assertSecurityHeaders, probe, randomIp } from "./probe_support.ts";

Deno.test("success responses of every function carry the security headers and x-request-id", async () => {
  const token = await mintToken({ sub: crypto.randomUUID() });
  const cases: [string, RequestInit][] = [
    [`${functionsUrl}/health`, {}],
    [`${functionsUrl}/me`, { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": randomIp() } }],
    [probe(), { headers: { "x-forwarded-for": randomIp() } }],
  ];
  for (const [url, init] of cases) {
    const res = await fetch(url, init);
    await res.body?.cancel();
    assert.equal(res.status, 200, url);
    assertSecurityHeaders(res, url);
    assert.equal(res.headers.get("cache-control"), "no-store", url);
  }
});

Deno.test("error responses carry them too: 401, 404, 405, 413, 415, 400, 422, 429, 500", async () => {
  const ip = () => ({ "x-forwarded-for": randomIp() });
  await assertError(await fetch(`${functionsUrl}/me`, { headers: ip() }), 401, "MISSING_CREDENTIALS");
  await assertError(await fetch(`${functionsUrl}/me/elsewhere`, { headers: ip() }), 404, "NOT_FOUND");
  await assertError(await fetch(`${functionsUrl}/health`, { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED");
  await assertError(await fetch(probe("/boom"), { headers: ip() }), 500, "INTERNAL");
  const json = { ...ip(), "content-type": "application/json" };
  await assertError(await fetch(probe("/items"), { method: "POST", headers: json, body: "x".repeat(2000) }), 413, "PAYLOAD_TOO_LARGE");
  await assertError(await fetch(probe("/items"), { method: "POST", headers: { ...ip(), "content-type": "text/xml" }, body: "<a/>" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  await assertError(await fetch(probe("/items"), { method: "POST", headers: json, body: "{" }), 400, "INVALID_BODY");
  await assertError(await fetch(probe("/items"), { method: "POST", headers: json, body: "{}" }), 422, "VALIDATION_FAILED");
  const addr = randomIp();
  for (let i = 0; i < 5; i++) (await fetch(probe(), { headers: { "x-forwarded-for": addr } })).body?.cancel();
  await assertError(await fetch(probe(), { headers: { "x-forwarded-for": addr } }), 429, "RATE_LIMITED");
});

Deno.test("x-request-id: a well-formed incoming id is kept in header and body, a malformed one replaced", async () => {
  const id = `trace-${crypto.randomUUID()}`;
  const res = await fetch(`${functionsUrl}/me`, { headers: { "x-request-id": id, "x-forwarded-for": randomIp() } });
  const body = await assertError(res, 401, "MISSING_CREDENTIALS");
  assert.equal(res.headers.get("x-request-id"), id);
  assert.equal(body.request_id, id);
  for (const bad of ["has space", "x".repeat(200), "<script>", "a,b"]) {
    const r = await fetch(`${functionsUrl}/health`, { headers: { "x-request-id": bad } });
    await r.body?.cancel();
    assert.notEqual(r.headers.get("x-request-id"), bad, bad);
    assertSecurityHeaders(r, bad);
  }
});

Deno.test("CORS matrix over HTTP (CORS_ORIGINS with an exact origin and a subdomain pattern)", async () => {
  const server = await startServer({
    CORS_ORIGINS: "https://app.example.com,https://*.example.org",
    CORS_ALLOW_CREDENTIALS: "true",
    EDGEGUARD_QUIET: "1",
  });
  try {
    const url = probe("", `${server.url}/functions/v1`);
    const cases: [string, boolean][] = [
      ["https://app.example.com", true],
      ["https://shop.example.org", true],
      ["https://example.org", false],
      ["https://a.b.example.org", false],
      ["http://app.example.com", false],
      ["https://app.example.com.evil.test", false],
      ["https://evil.example", false],
      ["null", false],
    ];
    for (const [origin, allowed] of cases) {
      const res = await fetch(url, { headers: { origin, "x-forwarded-for": randomIp() } });
      await res.body?.cancel();
      assert.equal(res.status, 200, origin);
      assertSecurityHeaders(res, origin);
      assert.ok((res.headers.get("vary") ?? "").includes("Origin"), `${origin}: Vary: Origin`);
      assert.equal(res.headers.get("access-control-allow-origin"), allowed ? origin : null, origin);
      assert.equal(res.headers.get("access-control-allow-credentials"), allowed ? "true" : null, origin);
      const pre = await fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      if (allowed) {
        await pre.body?.cancel();
        assert.equal(pre.status, 204, `${origin} preflight`);
        assert.equal(pre.headers.get("access-control-allow-origin"), origin);
        assert.ok(Number(pre.headers.get("access-control-max-age")) > 0, "max-age");
        assert.ok(!pre.headers.has("ratelimit"), "a preflight is answered before limits and the handler");
        assertSecurityHeaders(pre, `${origin} preflight`);
      } else {
        await assertError(pre, 403, "ORIGIN_NOT_ALLOWED");
        assert.equal(pre.headers.get("access-control-allow-origin"), null, `${origin} preflight`);
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("CORS_ORIGINS=* with APP_ENV=production: functions refuse to start (500 MISCONFIGURED, one log line)", async () => {
  const server = await startServer({ CORS_ORIGINS: "*", APP_ENV: "production", EDGEGUARD_QUIET: "1" });
  try {
    // The module throws at load, so the function never runs: the server (like the
    // platform's boot error) answers for it, with its own minimal headers.
    const res = await fetch(`${server.url}/functions/v1/health`);
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.code, "MISCONFIGURED");
    assert.equal(body.hint, undefined, "no hint");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.ok(res.headers.get("x-request-id"), "x-request-id");
    assert.ok(server.output().includes("refused to start"), "the reason is logged");
  } finally {
    await server.stop();
  }
});
