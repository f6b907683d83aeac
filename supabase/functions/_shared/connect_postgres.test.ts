import { connectPostgres, POSTGRES_OPTIONS } from "./connect_postgres.ts";
import { assert, eq } from "./test_assert.ts";

Deno.test("without SUPABASE_DB_URL the client refuses to start (the guard then reports the database unavailable)", () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.delete("SUPABASE_DB_URL");
  try {
    let threw = false;
    try {
      connectPostgres();
    } catch (e) {
      threw = true;
      assert(e instanceof Error && e.message.includes("SUPABASE_DB_URL"), String(e));
    }
    assert(threw, "throws");
  } finally {
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
  }
});

Deno.test("options: no prepared statements (poolers), bounded connect time, no WAL flush wait", () => {
  eq(POSTGRES_OPTIONS.prepare, false);
  assert(POSTGRES_OPTIONS.connect_timeout > 0 && POSTGRES_OPTIONS.connect_timeout <= 10, "connect timeout");
  eq(POSTGRES_OPTIONS.connection.synchronous_commit, "off");
});
