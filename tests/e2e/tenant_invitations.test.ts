// Tenant invitations over HTTP: a tenant admin invites (admin-users), the
// invitee lists, accepts or declines (me), the admin revokes. Membership comes
// only from the invitee's acceptance, and then shows in the member list and in
// the next access token the hook issues. Inviting never reveals whether the
// invitee exists. Seeded users come from supabase/seed.sql.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, functionsUrl, mintToken } from "./stack.ts";
import { now, post, stackSecrets, standardHeaders } from "./webhooks_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const B = "bbbbbbbb-0000-4000-8000-000000000000";
const seeded = (tenant: string, n: number) => `${tenant.slice(0, 8)}-0000-4000-8000-00000000000${n}`;
const ROLES = ["admin", "moderator", "provider", "customer", "guest"];
const secrets = await stackSecrets();

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

const call = async (path: string, token: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return await fetch(`${functionsUrl}/${path}`, { ...init, headers });
};
const postJson = (path: string, token: string, body: unknown) =>
  call(path, token, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const invite = (token: string, body: unknown) => postJson("admin-users/invitations", token, body);

async function expectError(res: Response, status: number, code: string) {
  const body = await errorBody(res);
  assert.equal(`${res.status} ${body.code}`, `${status} ${code}`, JSON.stringify(body));
  return body;
}

/** A fresh user without a tenant, with a confirmed email; returns id, email and a token as that user. */
async function freshUser(sql: postgres.Sql) {
  const id = crypto.randomUUID();
  const email = `invitee-${id}@example.test`;
  await sql`insert into auth.users (id, aud, role, email, email_confirmed_at)
            values (${id}, 'authenticated', 'authenticated', ${email}, now())`;
  // as its first token would be: no tenant yet, lowest rung
  const token = await mintToken({ sub: id, email, user_role: "guest" });
  return { id, email, token };
}

/** The claims Supabase Auth would get back from the HTTP access-token hook for `userId`. */
async function hookClaims(userId: string, email: string) {
  const t = now();
  const body = JSON.stringify({
    user_id: userId,
    authentication_method: "password",
    claims: {
      iss: "http://127.0.0.1:54321/auth/v1", aud: "authenticated", exp: t + 3600, iat: t, sub: userId,
      role: "authenticated", aal: "aal1", session_id: crypto.randomUUID(), email, phone: "", is_anonymous: false,
      app_metadata: { provider: "email", providers: ["email"] }, user_metadata: {},
    },
  });
  const res = await post(`${functionsUrl}/auth-hooks/custom-access-token`, body, standardHeaders(body, secrets.AUTH_HOOK_SECRET));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.claims as Record<string, unknown>;
}

async function withSql<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

const memberIds = async (token: string) => {
  const res = await call(`admin-users/${A}/members?limit=500`, token);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return new Map<string, string>(body.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]));
};

Deno.test("invite by email -> accept: the member is listed and the next token from the hook carries the tenant", async () => {
  await withSql(async (sql) => {
    const user = await freshUser(sql);
    const admin = await tokenFor(A, 1);

    const res = await invite(admin, { email: user.email.toUpperCase(), role: "provider" });
    const created = await res.json();
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.deepEqual(Object.keys(created).sort(), ["expires_at", "id", "role", "status", "tenant_id"]);
    assert.deepEqual([created.tenant_id, created.role, created.status], [A, "provider", "pending"]);

    // before acceptance: not a member, the tenant does not see them
    assert.ok(!(await memberIds(admin)).has(user.id), "not a member before accepting");
    const listed = await (await call("admin-users/invitations", admin)).json();
    const mine = listed.invitations.find((i: { id: string }) => i.id === created.id);
    assert.deepEqual([mine?.invitee_email, mine?.status], [user.email, "pending"]);

    // the invitee sees it; someone else does not, and cannot accept it
    const seen = await (await call("me/invitations", user.token)).json();
    assert.deepEqual(seen.invitations.map((i: { id: string; tenant_id: string; role: string; status: string }) =>
      [i.id, i.tenant_id, i.role, i.status]), [[created.id, A, "provider", "pending"]]);
    const outsider = await mintToken({ sub: "cccccccc-0000-4000-8000-000000000001", email: "outsider@no-tenant.test" });
    const other = await (await call("me/invitations", outsider)).json();
    assert.ok(!other.invitations.some((i: { id: string }) => i.id === created.id), "not listed to another user");
    await expectError(await call(`me/invitations/${created.id}/accept`, outsider, { method: "POST" }), 404, "NOT_FOUND");
    // nor does the admin who sent it get it through `me`
    const adminsOwn = await (await call("me/invitations", admin)).json();
    assert.ok(!adminsOwn.invitations.some((i: { id: string }) => i.id === created.id), "not the admin's own invitation");

    const accepted = await call(`me/invitations/${created.id}/accept`, user.token, { method: "POST" });
    const joined = await accepted.json();
    assert.equal(accepted.status, 200, JSON.stringify(joined));
    assert.deepEqual(joined, { invitation_id: created.id, tenant_id: A, role: "provider" });

    assert.equal((await memberIds(admin)).get(user.id), "provider", "listed with the offered role");
    const claims = await hookClaims(user.id, user.email);
    assert.deepEqual([claims.tenant_id, claims.user_role], [A, "provider"], "the next token carries the tenant and role");

    // once only
    await expectError(await call(`me/invitations/${created.id}/accept`, user.token, { method: "POST" }), 404, "NOT_FOUND");
    const after = await (await call("me/invitations", user.token)).json();
    assert.equal(after.invitations[0].status, "accepted");
    await sql`delete from auth.users where id = ${user.id}`;
  });
});

Deno.test("invite by user id -> decline: no membership, and a declined invitation cannot be accepted", async () => {
  await withSql(async (sql) => {
    const user = await freshUser(sql);
    const admin = await tokenFor(A, 1);
    const created = await (await invite(admin, { user_id: user.id, role: "customer" })).json();
    assert.equal(created.status, "pending", JSON.stringify(created));

    const res = await call(`me/invitations/${created.id}/decline`, user.token, { method: "POST" });
    assert.equal(res.status, 204, await res.text());
    await expectError(await call(`me/invitations/${created.id}/accept`, user.token, { method: "POST" }), 404, "NOT_FOUND");
    await expectError(await call(`me/invitations/${created.id}/decline`, user.token, { method: "POST" }), 404, "NOT_FOUND");
    assert.ok(!(await memberIds(admin)).has(user.id), "no membership");
    const listed = await (await call("admin-users/invitations", admin)).json();
    const row = listed.invitations.find((i: { id: string }) => i.id === created.id);
    assert.equal(row?.status, "declined");
    assert.equal((await hookClaims(user.id, user.email)).tenant_id, undefined, "the token carries no tenant");
    await sql`delete from auth.users where id = ${user.id}`;
  });
});

Deno.test("revoke: 204, then the invitee cannot accept; another tenant's admin gets 404", async () => {
  await withSql(async (sql) => {
    const user = await freshUser(sql);
    const admin = await tokenFor(A, 1);
    const created = await (await invite(admin, { user_id: user.id, role: "guest" })).json();

    await expectError(await call(`admin-users/invitations/${created.id}`, await tokenFor(B, 1), { method: "DELETE" }), 404, "NOT_FOUND");
    await expectError(await call(`admin-users/invitations/${created.id}`, await tokenFor(A, 4), { method: "DELETE" }), 403, "FORBIDDEN");
    const res = await call(`admin-users/invitations/${created.id}`, admin, { method: "DELETE" });
    assert.equal(res.status, 204, await res.text());
    await expectError(await call(`admin-users/invitations/${created.id}`, admin, { method: "DELETE" }), 404, "NOT_FOUND");
    await expectError(await call(`me/invitations/${created.id}/accept`, user.token, { method: "POST" }), 404, "NOT_FOUND");
    const seen = await (await call("me/invitations", user.token)).json();
    assert.equal(seen.invitations[0]?.status, "revoked");
    assert.ok(!(await memberIds(admin)).has(user.id), "no membership");
    await sql`delete from auth.users where id = ${user.id}`;
  });
});

Deno.test("only admins invite: 403 for a customer and a moderator, and for a forged admin claim (RLS)", async () => {
  await withSql(async (sql) => {
    const target = crypto.randomUUID();
    for (const n of [2, 4]) {
      await expectError(await invite(await tokenFor(A, n), { user_id: target, role: "guest" }), 403, "FORBIDDEN");
    }
    // a provider whose token claims admin (valid signature): the core lets it through, RLS refuses
    const forged = await tokenFor(A, 3, { user_role: "admin" });
    await expectError(await invite(forged, { user_id: target, role: "admin" }), 403, "FORBIDDEN");
    await expectError(await call("admin-users/invitations", await tokenFor(A, 4)), 403, "FORBIDDEN");
    const [{ n }] = await sql`select count(*)::int as n from public.tenant_invitations where invitee_user_id = ${target}`;
    assert.equal(n, 0, "no invitation was created");
  });
});

Deno.test("unknown invitees get exactly the answer known ones get (no user-existence oracle)", async () => {
  const admin = await tokenFor(A, 1);
  const shape = async (res: Response) => {
    const body = await res.json();
    return { status: res.status, keys: Object.keys(body).sort(), role: body.role, state: body.status, tenant: body.tenant_id };
  };
  const knownId = await shape(await invite(admin, { user_id: seeded(B, 4), role: "customer" }));
  const unknownId = await shape(await invite(admin, { user_id: crypto.randomUUID(), role: "customer" }));
  assert.equal(knownId.status, 201);
  assert.deepEqual(unknownId, knownId);
  const knownEmail = await shape(await invite(admin, { email: "customer@tenant-b.test", role: "customer" }));
  const unknownEmail = await shape(await invite(admin, { email: `nobody-${crypto.randomUUID()}@example.test`, role: "customer" }));
  assert.equal(knownEmail.status, 201);
  assert.deepEqual(unknownEmail, knownEmail);
  // and an unknown invitation id is the same 404 as someone else's
  const outsider = await mintToken({ sub: "cccccccc-0000-4000-8000-000000000001", email: "outsider@no-tenant.test" });
  await expectError(await call(`me/invitations/${crypto.randomUUID()}/accept`, outsider, { method: "POST" }), 404, "NOT_FOUND");
  await expectError(await call(`me/invitations/${crypto.randomUUID()}/decline`, outsider, { method: "POST" }), 404, "NOT_FOUND");
});

Deno.test("bad invitation bodies: 422 VALIDATION_FAILED", async () => {
  const admin = await tokenFor(A, 1);
  await expectError(await invite(admin, { role: "guest" }), 422, "VALIDATION_FAILED");
  await expectError(await invite(admin, { user_id: crypto.randomUUID(), email: "x@example.test", role: "guest" }), 422, "VALIDATION_FAILED");
  await expectError(await invite(admin, { email: "not an address", role: "guest" }), 422, "VALIDATION_FAILED");
  await expectError(await invite(admin, { user_id: "not-a-uuid", role: "guest" }), 422, "VALIDATION_FAILED");
  await expectError(await invite(admin, { user_id: crypto.randomUUID(), role: "root" }), 422, "VALIDATION_FAILED");
  await expectError(await invite(admin, { user_id: crypto.randomUUID(), role: "guest", tenant_id: B }), 422, "VALIDATION_FAILED");
  await expectError(await call("me/invitations/not-a-uuid/accept", admin, { method: "POST" }), 422, "VALIDATION_FAILED");
});
