// me creates the caller's profile on the first call, as the caller under RLS
// (audited with the user as actor), and returns role, tenant and permissions.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, functionsUrl, mintToken } from "./stack.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const me = (token: string) => fetch(`${functionsUrl}/me`, { headers: { authorization: `Bearer ${token}` } });

Deno.test("first call creates the profile (once); later calls return it; the insert is audited with the user as actor", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const id = crypto.randomUUID();
  try {
    await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`p-${id}@example.com`})`;
    const token = await mintToken({
      sub: id,
      email: `p-${id}@example.com`,
      user_role: "customer",
      tenant_id: A,
      user_metadata: { full_name: "  Pat Profile  " },
    });
    const first = await me(token);
    const a = await first.json();
    assert.equal(first.status, 200, JSON.stringify(a));
    assert.equal(a.profile_created, true);
    assert.equal(a.profile.id, id);
    assert.equal(a.profile.display_name, "Pat Profile");
    assert.equal(a.user_role, "customer");
    assert.equal(a.tenant_id, A);
    // customer's own grants and the guest's below it, nothing from above
    for (const p of ["orders:write", "services:read", "public:read"]) assert.ok(a.permissions.includes(p), p);
    assert.ok(!a.permissions.includes("services:write"), JSON.stringify(a.permissions));

    const second = await me(token);
    const b = await second.json();
    assert.equal(second.status, 200);
    assert.equal(b.profile_created, false);
    assert.deepEqual(b.profile, a.profile);

    const rows = await sql`select id from public.profiles where id = ${id}`;
    assert.equal(rows.length, 1);
    const audit = await sql`
      select actor_id, db_role from public.audit_logs
      where table_name = 'profiles' and operation = 'INSERT' and row_pk ->> 'id' = ${id}`;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor_id, id);
    assert.equal(audit[0].db_role, "authenticated");
  } finally {
    await sql`delete from auth.users where id = ${id}`;
    await sql.end();
  }
});

Deno.test("a seeded member sees role, tenant and inherited permissions; no duplicate profile", async () => {
  const res = await me(await mintToken({
    sub: "aaaaaaaa-0000-4000-8000-000000000002",
    email: "moderator@tenant-a.test",
    user_role: "moderator",
    tenant_id: A,
  }));
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.profile_created, false);
  assert.equal(body.profile.display_name, "Mona Moderator");
  assert.equal(body.user_role, "moderator");
  for (const p of ["users:read", "services:write", "services:read"]) assert.ok(body.permissions.includes(p), p);
  assert.ok(!body.permissions.includes("users:write"));
});

Deno.test("a verified token whose user has no account row: 200 with profile null", async () => {
  const res = await me(await mintToken({ sub: crypto.randomUUID() }));
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.profile, null);
  assert.equal(body.profile_created, false);
});

Deno.test("an admin token holds the admin grants (users:write) and every grant below", async () => {
  const res = await me(await mintToken({ sub: "aaaaaaaa-0000-4000-8000-000000000001", user_role: "admin", tenant_id: A }));
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.ok(body.permissions.includes("users:write"));
});

Deno.test("concurrent first calls create exactly one profile and one audit row", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const id = crypto.randomUUID();
  try {
    await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`c-${id}@example.com`})`;
    const token = await mintToken({ sub: id, user_role: "customer", tenant_id: A });
    const answers = await Promise.all(Array.from({ length: 6 }, async () => {
      const res = await me(token);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      return body;
    }));
    assert.equal(answers.filter((b) => b.profile_created).length, 1, "one call created it");
    assert.ok(answers.every((b) => b.profile?.id === id), "every call sees the profile");
    const [{ n }] = await sql`select count(*)::int as n from public.audit_logs
      where table_name = 'profiles' and operation = 'INSERT' and row_pk ->> 'id' = ${id}`;
    assert.equal(n, 1);
  } finally {
    await sql`delete from auth.users where id = ${id}`;
    await sql.end();
  }
});
