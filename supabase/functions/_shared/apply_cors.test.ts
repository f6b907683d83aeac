import { answerPreflight, isPreflight } from "./apply_cors.ts";
import { loadHardening } from "./load_hardening.ts";
import { assert, eq } from "./test_assert.ts";

const setup = (origins: string, policy: Record<string, unknown> = {}) => {
  const s = loadHardening({ auth: ["none"], routes: [{ method: "POST", path: "/x" }], ...policy }, { CORS_ORIGINS: origins });
  if (!s.ok) throw new Error(s.reason);
  return s.hardening;
};
const preflight = (origin: string | null, method = "POST", headers?: string) => {
  const h: Record<string, string> = { "access-control-request-method": method };
  if (origin !== null) h.origin = origin;
  if (headers) h["access-control-request-headers"] = headers;
  return new Request("http://fn/x", { method: "OPTIONS", headers: h });
};

Deno.test("isPreflight needs OPTIONS, Origin and Access-Control-Request-Method", () => {
  assert(isPreflight(preflight("https://a.example")), "preflight");
  assert(!isPreflight(preflight(null)), "no origin");
  assert(!isPreflight(new Request("http://fn/x", { method: "OPTIONS", headers: { origin: "https://a.example" } })), "no ACRM");
  assert(!isPreflight(new Request("http://fn/x", { method: "POST", headers: { origin: "https://a.example", "access-control-request-method": "POST" } })), "POST");
});

Deno.test("CORS matrix: exact, pattern, credentials, max-age; refusals without allow headers", async () => {
  const h = setup("https://app.example.com,https://*.example.org,http://localhost:3000");
  const cases: [string, number][] = [
    ["https://app.example.com", 204],
    ["https://APP.example.com", 204],
    ["https://app.example.com:443", 204],
    ["https://shop.example.org", 204],
    ["http://localhost:3000", 204],
    ["https://example.org", 403],
    ["https://a.b.example.org", 403],
    ["http://app.example.com", 403],
    ["https://app.example.com.evil.test", 403],
    ["http://localhost:3001", 403],
    ["null", 403],
    ["https://evil.example", 403],
  ];
  for (const [origin, status] of cases) {
    const res = answerPreflight(h, preflight(origin), "rid-1");
    eq(res.status, status, origin);
    eq(res.headers.get("x-request-id"), "rid-1", origin);
    assert((res.headers.get("vary") ?? "").includes("Origin"), `${origin}: Vary`);
    if (status === 204) {
      assert(res.headers.get("access-control-allow-origin")?.startsWith("http"), `${origin}: allow origin`);
      eq(res.headers.get("access-control-max-age"), "600", origin);
    } else {
      assert(!res.headers.has("access-control-allow-origin"), `${origin}: no allow header`);
      eq((await res.json()).code, "ORIGIN_NOT_ALLOWED", origin);
    }
  }
});

Deno.test("methods and headers outside the policy are refused; credentials only when configured", () => {
  const h = setup("https://app.example.com", { cors: { methods: ["GET", "POST"], headers: ["content-type"] } });
  eq(answerPreflight(h, preflight("https://app.example.com", "DELETE"), "r").status, 403, "method");
  eq(answerPreflight(h, preflight("https://app.example.com", "POST", "x-evil"), "r").status, 403, "header");
  const ok = answerPreflight(h, preflight("https://app.example.com", "POST", "content-type"), "r");
  eq(ok.status, 204);
  assert(!ok.headers.has("access-control-allow-credentials"), "no credentials by default");
  const s = loadHardening({ auth: ["none"], routes: [{ method: "POST", path: "/x" }] }, {
    CORS_ORIGINS: "https://app.example.com",
    CORS_ALLOW_CREDENTIALS: "true",
    CORS_MAX_AGE: "60",
  });
  assert(s.ok, "ok");
  const c = answerPreflight(s.hardening, preflight("https://app.example.com"), "r");
  eq(c.headers.get("access-control-allow-credentials"), "true");
  eq(c.headers.get("access-control-max-age"), "60");
});

Deno.test("wildcard: allowed outside production, refused in production and with credentials", () => {
  const dev = setup("*");
  eq(answerPreflight(dev, preflight("https://anything.example"), "r").headers.get("access-control-allow-origin"), "*");
  const route = { auth: ["none"], routes: [{ method: "GET", path: "/x" }] };
  assert(!loadHardening(route, { CORS_ORIGINS: "*", APP_ENV: "production" }).ok, "production");
  assert(!loadHardening(route, { CORS_ORIGINS: "*", CORS_ALLOW_CREDENTIALS: "true" }).ok, "credentials");
});
