// admin-users over HTTP: tenant admins list members and change roles; the core
// enforces tenant isolation (path vs token), roles and the body schema; the
// database re-checks under RLS and the audit trigger records the admin.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, freePort, functionsUrl, mintToken, startServer } from "./stack.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const B = "bbbbbbbb-0000-4000-8000-000000000000";
const seeded = (tenant: string, n: number) => `${tenant.slice(0, 8)}-0000-4000-8000-00000000000${n}`;
const ROLES = ["admin", "moderator", "provider", "customer", "guest"];

/** A token for seeded user n (1 admin … 5 guest) of `tenant`, claims as the access-token hook adds them. */
function tokenFor(tenant: string, n: number, extra: Record<string, unknown> = {}) {
  const role = ROLES[n - 1];
  return mintToken({
    sub: seeded(tenant, n),
    email: `${role}@tenant-${tenant === A ? "a" : "b"}.test`,
    user_role: role,
    tenant_id: tenant,
    ...extra,
  });
}

const call = async (path: string, token: string | null, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return await fetch(`${functionsUrl}/admin-users/${path}`, { ...init, headers });
};
const patch = (path: string, token: string, body: string) =>
  call(path, token, { method: "PATCH", body, headers: { "content-type": "application/json" } });

async function expectError(res: Response, status: number, code: string) {
  const body = await errorBody(res);
  assert.equal(`${res.status} ${body.code}`, `${status} ${code}`, JSON.stringify(body));
  return body as typeof body & { details?: { path: string; message: string }[]; hint?: string };
}

/** A fresh user who is a member of `tenant` with `role` (created through SQL as the service). */
async function freshMember(sql: postgres.Sql, tenant: string, role: string): Promise<string> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`m-${id}@tenant.test`})`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenant}, ${id}, ${role})`;
  return id;
}

Deno.test("admin of tenant A lists A's members (200), highest role first", async () => {
  const res = await call(`${A}/members`, await tokenFor(A, 1));
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.tenant_id, A);
  const byId = new Map(body.members.map((m: { user_id: string; role: string }) => [m.user_id, m]));
  for (let n = 1; n <= 5; n++) assert.ok(byId.has(seeded(A, n)), `seeded member ${n} listed`);
  assert.ok(!body.members.some((m: { user_id: string }) => m.user_id.startsWith("bbbbbbbb")), "no member of B");
  const ranks = body.members.map((m: { role: string }) => ROLES.indexOf(m.role));
  assert.deepEqual(ranks, [...ranks].sort((x: number, y: number) => x - y), "ordered by role");
  assert.ok(!JSON.stringify(body).includes("encrypted_password"));
  const page = await (await call(`${A}/members?limit=2&offset=1`, await tokenFor(A, 1))).json();
  assert.equal(page.members.length, 2);
  assert.equal(page.members[0].user_id, body.members[1].user_id);
});

Deno.test("admin of A cannot list B: 403 TENANT_MISMATCH (path tenant checked by the core)", async () => {
  const admin = await tokenFor(A, 1);
  await expectError(await call(`${B}/members`, admin), 403, "TENANT_MISMATCH");
  // nor change a member of B
  await expectError(await patch(`${B}/members/${seeded(B, 4)}`, admin, '{"role":"guest"}'), 403, "TENANT_MISMATCH");
  // B's own admin can
  assert.equal((await call(`${B}/members`, await tokenFor(B, 1))).status, 200);
});

Deno.test("a token without tenant_id cannot reach any tenant: 403 TENANT_MISMATCH", async () => {
  const t = await mintToken({ sub: seeded(A, 1), user_role: "admin" });
  await expectError(await call(`${A}/members`, t), 403, "TENANT_MISMATCH");
});

Deno.test("below admin: a moderator cannot change roles, a customer cannot list (403 FORBIDDEN)", async () => {
  const mod = await expectError(await patch(`${A}/members/${seeded(A, 4)}`, await tokenFor(A, 2), '{"role":"guest"}'), 403, "FORBIDDEN");
  assert.ok(!JSON.stringify(mod).includes("eyJ"));
  await expectError(await call(`${A}/members`, await tokenFor(A, 4)), 403, "FORBIDDEN");
  await expectError(await call(`${A}/members`, await tokenFor(A, 2)), 403, "FORBIDDEN");
});

Deno.test("no token: 401 MISSING_CREDENTIALS (guard verifies; verify_jwt = false, docs/platform.md)", async () => {
  const res = await call(`${A}/members`, null);
  await expectError(res, 401, "MISSING_CREDENTIALS");
});

Deno.test("admin changes a member's role (200); audit_logs records the admin as actor", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const member = await freshMember(sql, A, "customer");
    const admin = seeded(A, 1);
    const requestId = crypto.randomUUID();
    const res = await call(`${A}/members/${member}`, await tokenFor(A, 1), {
      method: "PATCH",
      body: JSON.stringify({ role: "moderator" }),
      // a client-set address on the left, the trusted proxy's hop on the right
      headers: { "content-type": "application/json", "x-request-id": requestId, "x-forwarded-for": "6.6.6.6, 198.51.100.7" },
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual([body.user_id, body.tenant_id, body.role, body.previous_role], [member, A, "moderator", "customer"]);
    assert.equal(res.headers.get("x-request-id"), requestId);

    const [row] = await sql`select role from public.tenant_members where tenant_id = ${A} and user_id = ${member}`;
    assert.equal(row.role, "moderator");

    const audit = await sql`
      select actor_id, actor_role, db_role, tenant_id, request_id, host(client_ip) as ip, old_record ->> 'role' as old_role,
             new_record ->> 'role' as new_role, actor_claims ->> 'tenant_id' as actor_tenant
      from public.audit_logs
      where table_name = 'tenant_members' and operation = 'UPDATE' and row_pk ->> 'user_id' = ${member}`;
    assert.equal(audit.length, 1, "one audit row for the change");
    const [a] = audit;
    assert.equal(a.actor_id, admin, "actor is the admin, not the connection");
    assert.equal(a.actor_role, "authenticated");
    assert.equal(a.db_role, "authenticated", "written under RLS as the caller");
    assert.equal(a.tenant_id, A);
    assert.equal(a.request_id, requestId);
    assert.equal(a.ip, "198.51.100.7", "the client IP from the trusted hop (the limiter's rule), never the leftmost");
    assert.deepEqual([a.old_role, a.new_role], ["customer", "moderator"]);
    assert.equal(a.actor_tenant, A);

    // the tenant's hash chain still verifies with the new row in it
    const [v] = await sql`select valid, reason from public.verify_audit_chain(${A}::uuid)`;
    assert.equal(v.valid, true, v.reason);
    await sql`delete from auth.users where id = ${member}`;
  } finally {
    await sql.end();
  }
});

Deno.test("bad bodies: 422 VALIDATION_FAILED with the field path, 400 INVALID_BODY, 415", async () => {
  const admin = await tokenFor(A, 1);
  const target = `${A}/members/${seeded(A, 5)}`;
  const secretish = `root-${crypto.randomUUID()}`;
  const notOnLadder = await expectError(await patch(target, admin, JSON.stringify({ role: secretish })), 422, "VALIDATION_FAILED");
  assert.deepEqual(notOnLadder.details?.map((d) => d.path), ["/role"]);
  assert.ok(!JSON.stringify(notOnLadder).includes(secretish), "the submitted value is not echoed");
  const extra = await expectError(await patch(target, admin, '{"role":"guest","tenant_id":"x"}'), 422, "VALIDATION_FAILED");
  assert.deepEqual(extra.details?.map((d) => d.path), ["/tenant_id"]);
  const wrongType = await expectError(await patch(target, admin, '{"role":5}'), 422, "VALIDATION_FAILED");
  assert.deepEqual(wrongType.details?.map((d) => d.path), ["/role"]);
  await expectError(await patch(target, admin, "{}"), 422, "VALIDATION_FAILED");
  await expectError(await patch(target, admin, '{"role":"guest"'), 400, "INVALID_BODY");
  await expectError(await patch(target, admin, '{"role":"guest","role":"admin"}'), 400, "INVALID_BODY");
  await expectError(await call(target, admin, { method: "PATCH", body: "role=admin", headers: { "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
  await expectError(await call(`${A}/members/not-a-uuid`, admin, { method: "PATCH", body: '{"role":"guest"}', headers: { "content-type": "application/json" } }), 422, "VALIDATION_FAILED");
  await expectError(await call(`${A}/members?limit=0`, admin), 422, "VALIDATION_FAILED");
});

Deno.test("the database re-checks: own role, unknown member, and an admin claim the database does not back", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const admin = await tokenFor(A, 1);
    // RLS: no admin changes their own membership
    await expectError(await patch(`${A}/members/${seeded(A, 1)}`, admin, '{"role":"guest"}'), 403, "FORBIDDEN");
    await expectError(await patch(`${A}/members/${crypto.randomUUID()}`, admin, '{"role":"guest"}'), 404, "NOT_FOUND");
    // a provider whose token claims admin (forged claim, valid signature): the core lets it
    // through, RLS refuses the write, nothing changes
    const member = await freshMember(sql, A, "customer");
    const forged = await tokenFor(A, 3, { user_role: "admin" });
    await expectError(await patch(`${A}/members/${member}`, forged, '{"role":"admin"}'), 403, "FORBIDDEN");
    const [row] = await sql`select role from public.tenant_members where tenant_id = ${A} and user_id = ${member}`;
    assert.equal(row.role, "customer");
    await sql`delete from auth.users where id = ${member}`;
  } finally {
    await sql.end();
  }
});

Deno.test("database down: 503 UNAVAILABLE with the SPEC body, no SQL or connection details", async () => {
  const server = await startServer({
    SUPABASE_DB_URL: `postgresql://postgres:postgres@127.0.0.1:${freePort()}/postgres`,
    EDGEGUARD_QUIET: "1",
  });
  try {
    const admin = await tokenFor(A, 1);
    for (const res of [
      await fetch(`${server.url}/functions/v1/admin-users/${A}/members`, { headers: { authorization: `Bearer ${admin}` } }),
      await fetch(`${server.url}/functions/v1/admin-users/${A}/members/${seeded(A, 5)}`, {
        method: "PATCH",
        body: '{"role":"guest"}',
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      }),
    ]) {
      const text = await res.clone().text();
      await expectError(res, 503, "UNAVAILABLE");
      for (const leak of ["select", "postgres", "tenant_members", "ECONNREFUSED", "127.0.0.1"]) {
        assert.ok(!text.includes(leak), `response mentions ${leak}: ${text}`);
      }
    }
  } finally {
    await server.stop();
  }
});
