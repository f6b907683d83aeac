// The database-down paths with a real (unreachable) Postgres connection; the
// limiter itself is tested over HTTP (tests/e2e/hardening_global.test.ts) and
// in SQL (supabase/tests/database/rate_limits.test.sql).
import postgres from "npm:postgres@3.4.9";
import { limitGlobal, postgresChecks } from "./limit_global.ts";
import { limitFacts, limitLocal } from "./limit_rate.ts";
import { loadHardening } from "./load_hardening.ts";
import { assert, eq } from "./test_assert.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const hardening = (onDbError: "open" | "closed") => {
  const s = loadHardening({
    auth: ["none"],
    limits: {
      on_db_error: onDbError,
      classes: {
        standard: [
          { name: "ip", by: ["ip"], limit: 100, window_s: 60 },
          { name: "g", by: ["ip"], limit: 5, window_s: 60, global: true },
        ],
      },
    },
    routes: [{ method: "GET", path: "/x" }],
  }, {});
  if (!s.ok) throw new Error(s.reason);
  return s.hardening;
};

Deno.test("database down: closed -> 503 UNAVAILABLE, open -> local limits only; one warning, no URL logged", async () => {
  const url = `postgresql://postgres:pw-not-logged@127.0.0.1:${closedPort()}/postgres`;
  const sql = postgres(url, { prepare: false, connect_timeout: 2, max: 1, onnotice: () => {} });
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    for (const [mode, want] of [["closed", "UNAVAILABLE"], ["open", "ok"]] as const) {
      const h = hardening(mode);
      const local = limitLocal(h, "GET /x", limitFacts(new Request("http://fn/x", { headers: { "x-forwarded-for": "203.0.113.1" } })));
      assert(local.ok && local.decision?.global.length === 1, "one global check");
      const v = await limitGlobal(h, "GET /x", local, postgresChecks(() => sql), "rid-1");
      eq(v.ok ? "ok" : v.code, want, mode);
      if (!v.ok) eq(v.status, 503, "status");
      else eq(v.headers.find(([n]) => n === "RateLimit")?.[1], '"ip";r=99;t=1', "local headers kept");
    }
  } finally {
    console.error = orig;
    await sql.end({ timeout: 1 });
  }
  eq(lines.length, 2, "one warning per request");
  for (const l of lines) {
    const v = JSON.parse(l);
    eq(v.request_id, "rid-1");
    assert(!l.includes("pw-not-logged") && !l.includes("postgresql://"), l);
  }
});

Deno.test("no global checks: the database is never asked", async () => {
  const s = loadHardening({ auth: ["none"], routes: [{ method: "GET", path: "/x" }] }, {});
  assert(s.ok, "ok");
  const local = limitLocal(s.hardening, "GET /x", limitFacts(new Request("http://fn/x")));
  let asked = false;
  const v = await limitGlobal(s.hardening, "GET /x", local, () => {
    asked = true;
    return Promise.resolve([]);
  }, "r");
  assert(v.ok && !asked, "not asked");
});
