// scripts/pg.sh on a cluster of its own: migrations applied in order, each
// once and atomically; seed once; a failing migration stops with a clear line.
import * as assert from "./assert.ts";
import postgres from "npm:postgres@3.4.9";
import { freePort, root } from "./stack.ts";

async function pg(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command("bash", {
    args: [`${root}/scripts/pg.sh`, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("pg.sh migrate: in order, once each, atomically; seed once; failures named", async () => {
  const work = await Deno.makeTempDir({ prefix: "edgeguard-migrate-" });
  const port = freePort();
  const env = {
    EDGEGUARD_STATE_DIR: `${work}/state`,
    EDGEGUARD_DB_PORT: String(port),
    EDGEGUARD_SUPABASE_DIR: `${work}/supabase`,
    EDGEGUARD_PG_FAST: "1",
    EDGEGUARD_EXTRA_MIGRATIONS_DIRS: "",
  };
  await Deno.mkdir(`${work}/supabase/migrations`, { recursive: true });
  const write = (path: string, text: string) => Deno.writeTextFile(`${work}/supabase/${path}`, text);
  await write("migrations/20260101000000_first.sql", "create table public.t (n int primary key);\n");
  await write("migrations/20260102000000_second.sql", "insert into public.t values (2);\nselect no_such_function();\n");
  await write("seed.sql", "insert into public.t values (100);\n");
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  try {
    const started = await pg(env, "start");
    assert.equal(started.code, 0, started.text);

    const failed = await pg(env, "migrate");
    assert.notEqual(failed.code, 0);
    assert.match(failed.text, /migration failed: .*20260102000000_second\.sql \(nothing of it was applied\)/);

    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const versions = async () =>
        (await sql`select version from supabase_migrations.schema_migrations order by version`).map((r) => r.version);
      const values = async () => (await sql`select n from public.t order by n`).map((r) => r.n);
      assert.deepEqual(await versions(), ["20260101000000"]);
      assert.deepEqual(await values(), [], "the failing migration left nothing behind; no seed yet");

      await write("migrations/20260102000000_second.sql", "insert into public.t values (2);\n");
      const fixed = await pg(env, "migrate");
      assert.equal(fixed.code, 0, fixed.text);
      assert.deepEqual(await versions(), ["20260101000000", "20260102000000"]);
      assert.deepEqual(await values(), [2, 100]);

      const again = await pg(env, "migrate");
      assert.equal(again.code, 0, again.text);
      assert.match(again.text, /0 migration\(s\) applied/);
      assert.deepEqual(await values(), [2, 100], "neither migrations nor seed run twice");

      // EDGEGUARD_EXTRA_MIGRATIONS_DIRS (the recipes of examples/): applied after ours, once,
      // even with an older version; they build on our tables.
      await Deno.mkdir(`${work}/recipe`, { recursive: true });
      await Deno.writeTextFile(`${work}/recipe/20250101000000_recipe.sql`, "insert into public.t values (7);\n");
      const extra = { ...env, EDGEGUARD_EXTRA_MIGRATIONS_DIRS: `${work}/nowhere:${work}/recipe` };
      const withRecipe = await pg(extra, "migrate");
      assert.equal(withRecipe.code, 0, withRecipe.text);
      assert.match(withRecipe.text, /1 migration\(s\) applied/);
      assert.deepEqual(await versions(), ["20250101000000", "20260101000000", "20260102000000"]);
      assert.deepEqual(await values(), [2, 7, 100]);
      assert.match((await pg(extra, "migrate")).text, /0 migration\(s\) applied/);
    } finally {
      await sql.end();
    }
  } finally {
    await pg(env, "destroy");
    await Deno.remove(work, { recursive: true });
  }
});
