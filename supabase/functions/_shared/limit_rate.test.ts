import { limitFacts, limitLocal, limitRoute } from "./limit_rate.ts";
import { loadHardening } from "./load_hardening.ts";
import { assert, eq } from "./test_assert.ts";

const hardening = (limits: unknown, routeLimits?: unknown) => {
  const s = loadHardening({ auth: ["none"], limits, routes: [{ method: "GET", path: "/x", limits: routeLimits }] }, {});
  if (!s.ok) throw new Error(s.reason);
  return s.hardening;
};
const req = (h: Record<string, string> = {}) => new Request("http://fn/x", { headers: h });

Deno.test("facts carry only the IP headers, the peer and the verified caller", () => {
  const f = limitFacts(
    req({ "x-forwarded-for": "203.0.113.9", authorization: "Bearer secret", "x-real-ip": "1.2.3.4", cookie: "a=b" }),
    "10.0.0.1",
    { userId: "u1", role: "admin", tenantId: "t1", apiKeyId: null },
  );
  eq(JSON.stringify(f.headers), JSON.stringify({ "x-forwarded-for": "203.0.113.9", "x-real-ip": "1.2.3.4" }));
  eq(f.remote_addr, "10.0.0.1");
  eq(f.user_id, "u1");
  eq(f.role, "admin");
  eq(f.tenant_id, "t1");
  assert(!("api_key_id" in f), "absent parts are omitted");
});

Deno.test("stacked windows: the tighter rule refuses, the other keeps its quota", () => {
  const h = hardening({
    classes: {
      standard: [
        { name: "burst", by: ["ip"], limit: 2, window_s: 1 },
        { name: "hour", by: ["ip"], limit: 5, window_s: 3600 },
      ],
    },
  });
  const f = limitFacts(req({ "x-forwarded-for": "203.0.113.10" }));
  const t = 1_000_000;
  assert(limitLocal(h, "GET /x", f, t).ok && limitLocal(h, "GET /x", f, t).ok, "2 pass");
  const third = limitLocal(h, "GET /x", f, t);
  assert(!third.ok, "third refused by burst");
  eq(third.decision?.exceeded, "burst");
  // a second later the burst refills; the hour rule still counts
  assert(limitLocal(h, "GET /x", f, t + 1000).ok, "after 1 s");
  assert(limitLocal(h, "GET /x", f, t + 2000).ok && limitLocal(h, "GET /x", f, t + 2000).ok, "after 2 s");
  const sixth = limitLocal(h, "GET /x", f, t + 3000);
  assert(!sixth.ok, "hour quota of 5 used");
  eq(sixth.decision?.exceeded, "hour");
});

Deno.test("per-role limits and user keys; anonymous requests skip user rules", () => {
  const h = hardening({
    classes: { standard: [{ name: "user-min", by: ["user"], limit: 1, window_s: 60, roles: { admin: 3 } }] },
  });
  const now = 5_000_000;
  const admin = limitFacts(req(), undefined, { userId: "a", role: "admin" });
  for (let i = 0; i < 3; i++) assert(limitLocal(h, "GET /x", admin, now).ok, `admin ${i}`);
  assert(!limitLocal(h, "GET /x", admin, now).ok, "admin 4th");
  const user = limitFacts(req(), undefined, { userId: "b", role: "customer" });
  assert(limitLocal(h, "GET /x", user, now).ok && !limitLocal(h, "GET /x", user, now).ok, "customer: 1");
  const anon = limitFacts(req());
  for (let i = 0; i < 5; i++) assert(limitLocal(h, "GET /x", anon, now).ok, "anonymous: rule does not apply");
});

Deno.test("global rules are listed for Postgres, not counted locally; exempt routes have no rules", () => {
  const h = hardening({
    classes: { standard: [{ name: "g", by: ["user"], limit: 1, window_s: 60, global: true }] },
  });
  const f = limitFacts(req(), undefined, { userId: "u" });
  for (let i = 0; i < 3; i++) {
    const v = limitLocal(h, "GET /x", f, 1);
    assert(v.ok, "local never refuses a global rule");
    eq(v.decision?.global.length, 1);
    assert(/^g:[0-9a-f]{32}$/.test(v.decision!.global[0].key), "opaque key");
    assert(!v.decision!.global[0].key.includes("u"), "no id in clear");
  }
  const e = hardening(undefined, { exempt: true });
  const v = limitLocal(e, "GET /x", limitFacts(req()), 1);
  assert(v.ok && v.headers.length === 0, "exempt");
});

Deno.test("client IP: rightmost X-Forwarded-For entry by default; spoofed left entries ignored", () => {
  const h = hardening({ classes: { standard: [{ name: "ip", by: ["ip"], limit: 1, window_s: 60 }] } });
  const a = limitFacts(req({ "x-forwarded-for": "1.1.1.1, 203.0.113.20" }));
  const b = limitFacts(req({ "x-forwarded-for": "2.2.2.2, 203.0.113.20" }));
  assert(limitLocal(h, "GET /x", a, 1).ok, "first");
  assert(!limitLocal(h, "GET /x", b, 1).ok, "same rightmost IP shares the bucket");
});

Deno.test("limitRoute: exempt routes answer the core's allow without facts; other routes count", () => {
  const e = hardening(undefined, { exempt: true });
  let built = 0;
  const facts = () => (built++, limitFacts(req({ "x-forwarded-for": "203.0.113.30" })));
  const a = limitRoute(e, "GET /x", facts, 1);
  const b = limitRoute(e, "GET /x", facts, 2);
  assert(a.ok && b.ok && a.headers.length === 0, "allowed, no headers");
  eq(a, b, "one answer per route");
  assert(Object.isFrozen(a) && Object.isFrozen(a.decision), "shared answer is frozen");
  eq(built, 1, "facts built once, for the core's first answer");
  const h = hardening({ classes: { standard: [{ name: "ip", by: ["ip"], limit: 1, window_s: 60 }] } });
  assert(limitRoute(h, "GET /x", facts, 1).ok, "first counted");
  assert(!limitRoute(h, "GET /x", facts, 1).ok, "second refused");
});
