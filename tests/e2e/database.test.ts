// The stack's database: bootstrap, every migration applied once, seed recorded.
import * as assert from "./assert.ts";
import postgres from "npm:postgres@3.4.9";
import { dbUrl, root } from "./stack.ts";

function migrationFiles(dir = `${root}/supabase/migrations`): { version: string; name: string }[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".sql"))
    .map((e) => e.name.slice(0, -4))
    .sort()
    .map((base) => ({ version: base.split("_")[0], name: base.includes("_") ? base.slice(base.indexOf("_") + 1) : "" }));
}

/** The recipes' migrations the stack also applied (EDGEGUARD_EXTRA_MIGRATIONS_DIRS, set by scripts/test.sh). */
function extraMigrationFiles(): { version: string; name: string }[] {
  const dirs = (Deno.env.get("EDGEGUARD_EXTRA_MIGRATIONS_DIRS") ?? "").split(":").filter((d) => d !== "");
  return dirs.flatMap((d) => migrationFiles(d));
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("the database is Postgres 15 on the stack's DB URL, reachable as postgres/postgres", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const [{ version }] = await sql`select current_setting('server_version') as version`;
    assert.match(version, /^15\./);
  } finally {
    await sql.end();
  }
});

Deno.test("every supabase/migrations file (and extra one) is recorded once in supabase_migrations.schema_migrations", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select version, name from supabase_migrations.schema_migrations order by version`;
    const ours = exists(`${root}/supabase/migrations`) ? migrationFiles() : [];
    const expected = [...ours, ...extraMigrationFiles()].sort((a, b) => a.version.localeCompare(b.version));
    assert.deepEqual(rows.map((r) => ({ version: r.version, name: r.name })), expected);
  } finally {
    await sql.end();
  }
});

Deno.test("supabase/seed.sql, when present, is recorded as applied", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select path from supabase_migrations.seed_files`;
    assert.deepEqual(rows.map((r) => r.path), exists(`${root}/supabase/seed.sql`) ? ["supabase/seed.sql"] : []);
  } finally {
    await sql.end();
  }
});

Deno.test("the bootstrap gave plain Postgres the Supabase roles and auth helpers", async () => {
  assert.ok(exists(`${root}/scripts/sql/bootstrap.sql`), "scripts/sql/bootstrap.sql is missing");
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const roles = await sql`select rolname, rolbypassrls from pg_roles
      where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`;
    assert.deepEqual(roles.map((r) => r.rolname), ["anon", "authenticated", "authenticator", "service_role"]);
    assert.equal(roles.find((r) => r.rolname === "service_role")?.rolbypassrls, true);
    const sub = crypto.randomUUID();
    const [row] = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub, role: "authenticated", email: "e@x.io" })}, true)`;
      return await tx`select auth.uid()::text as uid, auth.role() as role, auth.email() as email, auth.jwt() ->> 'sub' as jwt_sub`;
    });
    assert.deepEqual({ ...row }, { uid: sub, role: "authenticated", email: "e@x.io", jwt_sub: sub });
  } finally {
    await sql.end();
  }
});
