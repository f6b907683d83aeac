import { connectLimiterPostgres, connectPostgres, LIMITER_POSTGRES_OPTIONS, POSTGRES_OPTIONS } from "./connect_postgres.ts";
import { assert, eq } from "./test_assert.ts";

Deno.test("without SUPABASE_DB_URL the clients refuse to start (the guard then reports the database unavailable)", () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.delete("SUPABASE_DB_URL");
  try {
    for (const connect of [connectPostgres, connectLimiterPostgres]) {
      let threw = false;
      try {
        connect();
      } catch (e) {
        threw = true;
        assert(e instanceof Error && e.message.includes("SUPABASE_DB_URL"), String(e));
      }
      assert(threw, "throws");
    }
  } finally {
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
  }
});

Deno.test("options: no prepared statements (poolers), bounded connect time; only the limiter skips the WAL flush wait", () => {
  for (const o of [POSTGRES_OPTIONS, LIMITER_POSTGRES_OPTIONS]) {
    eq(o.prepare, false);
    assert(o.connect_timeout > 0 && o.connect_timeout <= 10, "connect timeout");
  }
  assert(!("synchronous_commit" in POSTGRES_OPTIONS.connection), "durable by default");
  eq(LIMITER_POSTGRES_OPTIONS.connection.synchronous_commit, "off");
});
