// A sweep of hostile requests against every function (and against a server
// whose database is down): no error body shows a stack trace, SQL text, a
// secret of the stack, or a credential the request carried; every error has
// the SPEC §6 shape and the security headers.
import * as assert from "./assert.ts";
import { foreignKey, freePort, functionsUrl, mintToken, root, startServer } from "./stack.ts";
import { assertNoLeak, assertSecurityHeaders, randomIp } from "./probe_support.ts";

async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/supabase/functions`)) {
    if (!e.isDirectory || e.name.startsWith("_") || e.name.startsWith(".")) continue;
    try {
      await Deno.stat(`${root}/supabase/functions/${e.name}/index.ts`);
      names.push(e.name);
    } catch { /* not a function */ }
  }
  return names.sort();
}

async function hostileRequests(): Promise<{ credentials: string[]; cases: [string, RequestInit][] }> {
  const expired = await mintToken({}, { expiresIn: -3600 });
  const foreign = await mintToken({}, { signWith: await foreignKey() });
  const injected = await mintToken({ sub: "'; drop table auth.users; --", role: "service_role", user_role: "admin" }, { signWith: await foreignKey() });
  const fakeKey = `sb_secret_${crypto.randomUUID().replaceAll("-", "")}`;
  const fakeApiKey = `egk_${crypto.randomUUID().replaceAll("-", "")}`;
  const credentials = [expired, foreign, injected, fakeKey, fakeApiKey];
  const h = (extra: Record<string, string> = {}) => ({ "x-forwarded-for": randomIp(), ...extra });
  const cases: [string, RequestInit][] = [
    ["", { headers: h() }],
    ["", { headers: h({ authorization: `Bearer ${expired}` }) }],
    ["", { headers: h({ authorization: `Bearer ${foreign}` }) }],
    ["", { headers: h({ authorization: `Bearer ${injected}` }) }],
    ["", { headers: h({ authorization: "Bearer ' OR 1=1 --" }) }],
    ["", { headers: h({ authorization: `Basic ${btoa("admin:admin")}` }) }],
    ["", { headers: h({ apikey: fakeKey }) }],
    ["", { headers: h({ "x-api-key": fakeApiKey }) }],
    ["/..%2f..%2fetc%2fpasswd", { headers: h() }],
    ["/%00%ff?x=' union select * from pg_shadow --", { headers: h() }],
    ["/nope", { method: "PUT", headers: h({ "content-type": "application/json" }), body: "{" }],
    ["", { method: "DELETE", headers: h() }],
    ["", { method: "PATCH", headers: h({ "content-type": "application/json" }), body: '{"a":' + "1".repeat(5000) }],
    ["", { method: "POST", headers: h({ "content-type": "application/json" }), body: "x".repeat(2 * 1024 * 1024) }],
    ["", { method: "POST", headers: h({ "content-type": "text/html" }), body: "<script>alert(1)</script>" }],
    ["", { method: "POST", headers: h({ "content-type": "application/json", authorization: `Bearer ${injected}` }), body: '{"__proto__":{"x":1}}' }],
    ["", { method: "OPTIONS", headers: h({ origin: "https://evil.example", "access-control-request-method": "POST" }) }],
  ];
  return { credentials, cases };
}

async function sweep(base: string): Promise<number> {
  const { credentials, cases } = await hostileRequests();
  let errors = 0;
  for (const name of await functionNames()) {
    // A function directory created after the server started is not served by it.
    const served = await fetch(`${base}/${name}`, { method: "OPTIONS" });
    const servedText = await served.text();
    if (served.status === 404 && servedText.includes("No such function")) continue;
    for (const [suffix, init] of cases) {
      const url = `${base}/${name}${suffix}`;
      const what = `${init.method ?? "GET"} ${name}${suffix.slice(0, 40)}`;
      const res = await fetch(url, init);
      const text = await res.text();
      if (res.status < 400) continue;
      errors++;
      await assertNoLeak(text, what, credentials);
      // verify_jwt = true: the (emulated) platform gateway answers before the function runs
      if (res.headers.get("x-edgeguard-gateway") === "rejected") continue;
      assertSecurityHeaders(res, what);
      const body = JSON.parse(text);
      for (const k of ["code", "message", "request_id"]) assert.equal(typeof body[k], "string", `${what}: ${k}`);
      assert.equal(body.request_id, res.headers.get("x-request-id"), `${what}: request id`);
      assert.ok(!("stack" in body) && !("trace" in body), `${what}: no stack field`);
    }
  }
  return errors;
}

Deno.test("no error body of any function leaks a stack trace, SQL text or a secret", async () => {
  const errors = await sweep(functionsUrl);
  assert.ok(errors >= 10, `the sweep produced errors to inspect (${errors})`);
});

Deno.test("the same sweep with the database down (503s included) leaks nothing either", async () => {
  const server = await startServer({
    SUPABASE_DB_URL: `postgresql://postgres:postgres@127.0.0.1:${freePort()}/postgres`,
    EDGEGUARD_QUIET: "1",
  });
  try {
    const errors = await sweep(`${server.url}/functions/v1`);
    assert.ok(errors >= 10, `errors inspected: ${errors}`);
    const global = await fetch(`${server.url}/functions/v1/request-probe/global`, { headers: { "x-forwarded-for": randomIp() } });
    assert.equal(global.status, 503);
    await assertNoLeak(await global.text(), "503");
    // and nothing secret in the server's log lines either
    await assertNoLeak(server.output().replace(/serve: .*\n/g, ""), "server log");
  } finally {
    await server.stop();
  }
});
