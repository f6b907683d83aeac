import { fallbackHardening, loadHardening } from "./load_hardening.ts";
import { assert, eq, randomSecret } from "./test_assert.ts";

const policy = { auth: ["none"], routes: [{ method: "POST", path: "/x", body: { max_bytes: 10 } }] };

Deno.test("a valid policy gives routes and hardening with the route's rules", () => {
  const s = loadHardening(policy, { CSRF_SECRET: randomSecret() });
  assert(s.ok, "ok");
  eq(s.hardening.bodyLimit("POST /x"), 10);
  eq(JSON.parse(s.routes.find("POST", "/x")).route, "POST /x");
});

Deno.test("misconfigurations are reported with a reason that holds no secret", () => {
  const short = "s3cr3t-but-short";
  for (const [p, env] of [
    [policy, { CSRF_SECRET: short }],
    [policy, { CORS_ORIGINS: "*", APP_ENV: "production" }],
    [{ routes: [] }, {}],
    [{ routes: [{ method: "GET", path: "/x", limits: { class: "nope" } }] }, {}],
    [{ routes: [{ method: "GET", path: "/x" }], headers: { set: { "Set-Cookie": "a=b" } } }, {}],
    [{ routes: [{ method: "GET", path: "/x" }], body: { max_bytes: -1 } }, {}],
  ] as [unknown, Record<string, string>][]) {
    const s = loadHardening(p, env);
    assert(!s.ok, JSON.stringify(p));
    assert(s.reason.length > 0 && !s.reason.includes(short), s.reason);
  }
});

Deno.test("the fallback gives the default security headers without CORS", () => {
  const a = JSON.parse(fallbackHardening().responseHeaders("https://evil.example"));
  const names = (a.headers as [string, string][]).map(([n]) => n.toLowerCase());
  assert(names.includes("x-content-type-options") && !names.includes("access-control-allow-origin"), names.join());
});
