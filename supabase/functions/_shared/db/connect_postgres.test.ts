import { closePostgres, connectPostgres, DEFAULT_POOL_SIZE, POSTGRES_OPTIONS } from "./connect_postgres.ts";
import { DatabaseMisconfigured } from "./database_error.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("without a postgres:// SUPABASE_DB_URL the pool refuses to start as misconfigured", () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  try {
    for (const url of [undefined, "mysql://x", ""]) {
      if (url === undefined) Deno.env.delete("SUPABASE_DB_URL");
      else Deno.env.set("SUPABASE_DB_URL", url);
      let threw: unknown;
      try {
        connectPostgres();
      } catch (e) {
        threw = e;
      }
      assert(threw instanceof DatabaseMisconfigured, `throws for ${url}`);
    }
  } finally {
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
    else Deno.env.delete("SUPABASE_DB_URL");
  }
});

Deno.test("one pool per isolate: every caller gets the same one until it is closed", async () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.set("SUPABASE_DB_URL", "postgresql://postgres:pw@127.0.0.1:1/postgres");
  try {
    const a = connectPostgres();
    assert(a === connectPostgres(), "same pool");
    await closePostgres();
    const b = connectPostgres();
    assert(a !== b, "a new pool after close");
    await closePostgres();
  } finally {
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
    else Deno.env.delete("SUPABASE_DB_URL");
  }
});

Deno.test("options: no prepared statements (poolers), bounded connect time and lifetime, one default size", () => {
  eq(POSTGRES_OPTIONS.prepare, false);
  assert(POSTGRES_OPTIONS.connect_timeout > 0 && POSTGRES_OPTIONS.connect_timeout <= 10, "connect timeout");
  assert(!("synchronous_commit" in POSTGRES_OPTIONS.connection), "durable by default");
  eq(POSTGRES_OPTIONS.max, DEFAULT_POOL_SIZE);
});
