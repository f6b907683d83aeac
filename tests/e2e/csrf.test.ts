// CSRF over HTTP on the probe's form route: a token issued by the function
// (bound to the __Host- cookie subject), Origin / Sec-Fetch-Site checks,
// bearer exemption.
import * as assert from "./assert.ts";
import { mintToken } from "./stack.ts";
import { assertError, probe, randomIp } from "./probe_support.ts";

async function issue(headers: Record<string, string> = {}) {
  const res = await fetch(probe("/csrf"), { headers: { "x-forwarded-for": randomIp(), ...headers } });
  assert.equal(res.status, 200);
  const { token, expires_in_s } = await res.json();
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { token: token as string, expires_in_s: expires_in_s as number, setCookie, cookie: setCookie.split(";")[0] };
}

const form = (headers: Record<string, string>, body = "a=1") =>
  fetch(probe("/form"), {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": randomIp(), ...headers },
  });

Deno.test("the token endpoint binds a token to a fresh __Host- cookie subject", async () => {
  const a = await issue();
  assert.ok(/^v1\.\d+\.[A-Za-z0-9_-]+$/.test(a.token), a.token);
  assert.equal(a.expires_in_s, 7200);
  for (const attr of ["__Host-edgeguard-csrf=", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"]) {
    assert.ok(a.setCookie.includes(attr), `${attr} in ${a.setCookie}`);
  }
  const b = await issue();
  assert.notEqual(a.cookie, b.cookie, "a fresh subject per browser");
  const again = await issue({ cookie: a.cookie });
  assert.equal(again.setCookie, "", "an existing subject is reused, no new cookie");
});

Deno.test("CSRF matrix over HTTP", async () => {
  const { token, cookie } = await issue();
  const other = await issue();
  const pass: [string, Record<string, string>, string?][] = [
    ["header token + cookie", { cookie, "x-csrf-token": token }],
    ["form field token + cookie", { cookie }, `a=1&csrf_token=${encodeURIComponent(token)}`],
    ["same-origin fetch", { cookie, "x-csrf-token": token, "sec-fetch-site": "same-origin" }],
    ["user-initiated navigation", { cookie, "x-csrf-token": token, "sec-fetch-site": "none" }],
  ];
  for (const [name, headers, body] of pass) {
    const res = await form(headers, body);
    assert.equal(res.status, 200, name);
    await res.body?.cancel();
  }
  const fail: [string, Record<string, string>, string?][] = [
    ["no token", { cookie }],
    ["no cookie", { "x-csrf-token": token }],
    ["another browser's token", { cookie, "x-csrf-token": other.token }],
    ["token with another cookie", { cookie: other.cookie, "x-csrf-token": token }],
    ["tampered token", { cookie, "x-csrf-token": token.replace(/.$/, (c) => (c === "A" ? "B" : "A")) }],
    ["expired-format token", { cookie, "x-csrf-token": "v1.1.AAAA" }],
    ["cross-site request", { cookie, "x-csrf-token": token, "sec-fetch-site": "cross-site" }],
    ["foreign Origin", { cookie, "x-csrf-token": token, origin: "https://evil.example" }],
    ["Origin null", { cookie, "x-csrf-token": token, origin: "null" }],
    ["same-site but untrusted", { cookie, "x-csrf-token": token, "sec-fetch-site": "same-site", origin: "https://other.example" }],
  ];
  for (const [name, headers, body] of fail) {
    const res = await form(headers, body);
    const err = await assertError(res, 403, "CSRF_FAILED").catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
    assert.ok(!JSON.stringify(err).includes(token), `${name}: token not echoed`);
  }
});

Deno.test("bearer-token requests are exempt (a browser never sends them on its own)", async () => {
  const token = await mintToken({ sub: crypto.randomUUID() });
  const res = await form({ authorization: `Bearer ${token}` });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
