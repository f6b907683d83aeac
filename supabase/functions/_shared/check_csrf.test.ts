import { checkCsrf, csrfCookie, csrfSubject, issueCsrfToken } from "./check_csrf.ts";
import { loadHardening } from "./load_hardening.ts";
import { GuardError } from "./respond_error.ts";
import { assert, eq, randomSecret } from "./test_assert.ts";

const secret = randomSecret();
const h = (() => {
  const s = loadHardening(
    { auth: ["none"], routes: [{ method: "POST", path: "/form", csrf: { required: true, ttl_s: 60 } }, { method: "POST", path: "/api" }] },
    { CSRF_SECRET: secret, CORS_ORIGINS: "https://app.example.com" },
  );
  if (!s.ok) throw new Error(s.reason);
  return s.hardening;
})();

const post = (headers: Record<string, string>, path = "/form") => new Request(`http://fn${path}`, { method: "POST", headers });
const code = (f: () => void): string => {
  try {
    f();
    return "ok";
  } catch (e) {
    if (e instanceof GuardError) return e.code;
    throw e;
  }
};

Deno.test("subject: the user id, else the CSRF cookie", () => {
  eq(csrfSubject(post({ cookie: "__Host-edgeguard-csrf=abc" }), "user-1"), "user-1");
  eq(csrfSubject(post({ cookie: "x=1; __Host-edgeguard-csrf=abc; y=2" })), "abc");
  eq(csrfSubject(post({ cookie: "__Host-edgeguard-csrfx=abc" })), undefined);
  eq(csrfSubject(post({})), undefined);
  const c = csrfCookie("abc", 60);
  assert(c.includes("Secure") && c.includes("HttpOnly") && c.includes("SameSite=Strict") && c.startsWith("__Host-"), c);
});

Deno.test("CSRF matrix", () => {
  const now = 1_700_000_000_000;
  const { token, expires_in_s } = issueCsrfToken(h, "POST /form", "sess-1", now);
  eq(expires_in_s, 60);
  assert(!token.includes(secret), "token does not contain the secret");
  const cookie = "__Host-edgeguard-csrf=sess-1";
  const rows: [string, Record<string, string>, unknown, number, string][] = [
    ["token + cookie", { cookie, "x-csrf-token": token }, null, now, "ok"],
    ["same-origin fetch", { cookie, "x-csrf-token": token, "sec-fetch-site": "same-origin" }, null, now, "ok"],
    ["trusted origin", { cookie, "x-csrf-token": token, origin: "https://app.example.com" }, null, now, "ok"],
    ["own origin", { cookie, "x-csrf-token": token, origin: "http://fn" }, null, now, "ok"],
    ["form field", { cookie }, { csrf_token: token }, now, "ok"],
    ["no token", { cookie }, null, now, "CSRF_FAILED"],
    ["no subject", { "x-csrf-token": token }, null, now, "CSRF_FAILED"],
    ["other subject", { cookie: "__Host-edgeguard-csrf=sess-2", "x-csrf-token": token }, null, now, "CSRF_FAILED"],
    ["expired", { cookie, "x-csrf-token": token }, null, now + 61_000, "CSRF_FAILED"],
    ["tampered", { cookie, "x-csrf-token": token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA") }, null, now, "CSRF_FAILED"],
    ["cross-site", { cookie, "x-csrf-token": token, "sec-fetch-site": "cross-site" }, null, now, "CSRF_FAILED"],
    ["foreign origin", { cookie, "x-csrf-token": token, origin: "https://evil.example" }, null, now, "CSRF_FAILED"],
    ["origin null", { cookie, "x-csrf-token": token, origin: "null" }, null, now, "CSRF_FAILED"],
    ["bearer exempt", { authorization: "Bearer x" }, null, now, "ok"],
  ];
  for (const [name, headers, body, at, want] of rows) {
    eq(code(() => checkCsrf(h, "POST /form", post(headers), { body, selfOrigin: "http://fn", nowMs: at })), want, name);
  }
  eq(code(() => checkCsrf(h, "POST /api", post({}, "/api"), { selfOrigin: "http://fn" })), "ok", "route without csrf");
  eq(code(() => checkCsrf(h, "POST /form", new Request("http://fn/form"), {})), "ok", "GET is safe");
  eq(code(() => checkCsrf(h, "POST /form", post({ cookie: "__Host-edgeguard-csrf=u1", "x-csrf-token": issueCsrfToken(h, "POST /form", "u1", now).token }), { userId: "u2", nowMs: now })), "CSRF_FAILED", "a user's token is bound to the user id");
});
