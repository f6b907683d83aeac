// The database-down path with a real (unreachable) Postgres connection; the
// limiter itself is tested over HTTP (tests/e2e/limits_global.test.ts) and in
// SQL (supabase/tests/database/rate_limits.test.sql); what the core makes of
// an unavailable limiter (503 or local limits only) natively
// (crates/edgeguard-core/tests/pipeline_steps.rs).
import postgres from "npm:postgres@3.4.9";
import { hitGlobalLimits } from "./hit_global_limits.ts";
import { assert } from "../test_assert.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("an unreachable database rejects with an error that names no URL or password", async () => {
  const url = `postgresql://postgres:pw-not-logged@127.0.0.1:${closedPort()}/postgres`;
  const sql = postgres(url, { prepare: false, connect_timeout: 2, max: 1, onnotice: () => {} });
  try {
    let err: unknown;
    try {
      await hitGlobalLimits([{ rule: "g", key: "g:00", limit: 5, window_s: 60 }], () => Promise.resolve(sql));
    } catch (e) {
      err = e;
    }
    assert(err !== undefined, "rejects");
    const code = (err as { code?: string }).code ?? "";
    assert(!code.includes("pw-not-logged") && !code.includes("postgresql://"), code);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
