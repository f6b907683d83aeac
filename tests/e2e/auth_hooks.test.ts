// The `auth-hooks` function over HTTP, called the way Supabase Auth calls HTTP
// hooks: a JSON body signed with standardwebhooks under AUTH_HOOK_SECRET
// (`v1,whsec_…`). Seeded users come from supabase/seed.sql.
import * as assert from "./assert.ts";
import { freePort, functionsUrl, startServer } from "./stack.ts";
import { now, post, securityEvents, stackSecrets, standardHeaders, withDb } from "./webhooks_support.ts";

const secrets = await stackSecrets();
const hook = (name: string) => `${functionsUrl}/auth-hooks/${name}`;
const TENANT_A = "aaaaaaaa-0000-4000-8000-000000000000";
const ADMIN_A = "aaaaaaaa-0000-4000-8000-000000000001";
const CUSTOMER_B = "bbbbbbbb-0000-4000-8000-000000000004";
const OUTSIDER = "cccccccc-0000-4000-8000-000000000001";

/** POSTs `payload` signed as Supabase Auth signs hook requests. */
function callHook(name: string, payload: unknown, options: { secret?: string; timestamp?: number; signature?: (s: string) => string } = {}) {
  const body = JSON.stringify(payload);
  const h = standardHeaders(body, options.secret ?? secrets.AUTH_HOOK_SECRET, { timestamp: options.timestamp });
  if (options.signature) h["webhook-signature"] = options.signature(h["webhook-signature"]);
  return post(hook(name), body, h);
}

/** The claims Supabase Auth puts in every access token (all required by its hook contract). */
function supabaseClaims(userId: string, extra: Record<string, unknown> = {}) {
  const t = now();
  return {
    iss: "http://127.0.0.1:54321/auth/v1",
    aud: "authenticated",
    exp: t + 3600,
    iat: t,
    sub: userId,
    role: "authenticated",
    aal: "aal1",
    session_id: crypto.randomUUID(),
    email: "someone@example.test",
    phone: "",
    is_anonymous: false,
    amr: [{ method: "password", timestamp: t }],
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: { display_name: "x" },
    ...extra,
  };
}

Deno.test("custom-access-token: adds user_role, tenant_id, permissions and keeps every claim", async () => {
  const claims = supabaseClaims(ADMIN_A, { app_metadata: { provider: "email", tenant_id: TENANT_A } });
  const res = await callHook("custom-access-token", { user_id: ADMIN_A, claims, authentication_method: "password" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const out = res.body.claims as Record<string, unknown>;
  for (const [k, v] of Object.entries(claims)) assert.deepEqual(out[k], v, `claim ${k} kept`);
  assert.equal(out.user_role, "admin");
  assert.equal(out.tenant_id, TENANT_A);
  const permissions = out.permissions as string[];
  for (const p of ["users:write", "users:read", "services:write", "services:read", "public:read"]) {
    assert.ok(permissions.includes(p), `admin holds ${p} (ladder)`);
  }
  assert.deepEqual(Object.keys(res.body), ["claims"]);
});

Deno.test("custom-access-token: customer of tenant B and a user without a tenant", async () => {
  const b = await callHook("custom-access-token", { user_id: CUSTOMER_B, claims: supabaseClaims(CUSTOMER_B) });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const cb = b.body.claims as Record<string, unknown>;
  assert.equal(cb.user_role, "customer");
  assert.equal(cb.tenant_id, "bbbbbbbb-0000-4000-8000-000000000000");
  assert.ok(!(cb.permissions as string[]).includes("users:write"), "no admin permission");
  const o = await callHook("custom-access-token", { user_id: OUTSIDER, claims: supabaseClaims(OUTSIDER) });
  assert.equal(o.status, 200, JSON.stringify(o.body));
  const co = o.body.claims as Record<string, unknown>;
  assert.equal(co.user_role, "guest");
  assert.equal(co.tenant_id, undefined);
  assert.deepEqual(co.permissions, ["public:read"]);
});

Deno.test("custom-access-token: signatures separated by ', ' (as Supabase Auth sends them) verify", async () => {
  const res = await callHook("custom-access-token", { user_id: ADMIN_A, claims: supabaseClaims(ADMIN_A) }, {
    signature: (s) => `v1,${btoa("y".repeat(32))}, ${s}`,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

Deno.test("custom-access-token: claims.sub for another user → 200 with Supabase's error object (http_code 400)", async () => {
  const res = await callHook("custom-access-token", { user_id: ADMIN_A, claims: supabaseClaims(CUSTOMER_B) });
  assert.equal(res.status, 200, "Supabase Auth reads only 200/202 bodies");
  assert.equal(res.body.code, "INVALID_BODY");
  assert.equal((res.body.error as { http_code: number }).http_code, 400);
});

Deno.test("auth hooks: bad signature, wrong secret, stale timestamp → INVALID_SIGNATURE as Auth reads it (recorded)", async () => {
  const payload = { user_id: ADMIN_A, claims: supabaseClaims(ADMIN_A) };
  const cases = [
    await callHook("custom-access-token", payload, { signature: (s) => s.slice(0, -4) + "AAA=" }),
    await callHook("custom-access-token", payload, { secret: "whsec_" + btoa("z".repeat(32)) }),
    await callHook("custom-access-token", payload, { timestamp: now() - 600 }),
    await callHook("password-verification", { user_id: OUTSIDER, valid: false }, { secret: "whsec_" + btoa("z".repeat(32)) }),
    await post(hook("password-verification"), JSON.stringify({ user_id: OUTSIDER, valid: false }), {}),
  ];
  for (const res of cases) {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.code, "INVALID_SIGNATURE");
    assert.equal((res.body.error as { http_code: number }).http_code, 401);
  }
  const events = await withDb((sql) => securityEvents(sql, cases[0].requestId!));
  assert.equal(events.length, 1);
  assert.equal((events[0].details as { endpoint: string }).endpoint, "auth_hook");
});

Deno.test("auth hooks: an unsigned body is INVALID_SIGNATURE before any parsing or schema check; signed, the schema applies", async () => {
  for (const body of ['{"user_id":', '{"user_id":"not-a-uuid","valid":"yes"}', "[]"]) {
    const res = await post(hook("password-verification"), body, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.code, "INVALID_SIGNATURE");
    assert.equal((res.body.error as { http_code: number }).http_code, 401);
  }
  const signedBroken = '{"user_id":';
  const res = await post(hook("password-verification"), signedBroken, standardHeaders(signedBroken, secrets.AUTH_HOOK_SECRET));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.code, "INVALID_BODY");
  assert.equal((res.body.error as { http_code: number }).http_code, 400);
});

Deno.test("password-verification: 5 failures lock out; locked rejects even the right password; success resets", async () => {
  await withDb((sql) => sql`delete from private.password_failures where user_id in (${OUTSIDER}, ${ADMIN_A})`);
  const attempt = async (user: string, valid: boolean) => {
    const r = await callHook("password-verification", { user_id: user, valid });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  // success resets: 4 failures, a success, 4 more failures → still allowed
  for (let i = 0; i < 4; i++) assert.deepEqual(await attempt(ADMIN_A, false), { decision: "continue" });
  assert.deepEqual(await attempt(ADMIN_A, true), { decision: "continue" });
  for (let i = 0; i < 4; i++) assert.deepEqual(await attempt(ADMIN_A, false), { decision: "continue" });
  // lockout at the 5th failure inside the window
  const [{ since }] = await withDb((sql) => sql`select now() as since`);
  for (let i = 0; i < 4; i++) assert.deepEqual(await attempt(OUTSIDER, false), { decision: "continue" });
  const locked = await attempt(OUTSIDER, false);
  assert.equal(locked.decision, "reject");
  assert.equal(typeof locked.message, "string");
  assert.equal(locked.should_logout_user, false);
  assert.equal((await attempt(OUTSIDER, true)).decision, "reject", "the right password while locked");
  const events = await withDb((sql) => sql`select details from public.security_events
    where event_type = 'password_lockout' and actor_id = ${OUTSIDER} and occurred_at >= ${since}`);
  assert.equal(events.length, 2, "one security event per rejected attempt");
  assert.deepEqual(events.map((e) => e.details.valid).sort(), [false, true]);
  await withDb((sql) => sql`delete from private.password_failures where user_id in (${OUTSIDER}, ${ADMIN_A})`);
});

Deno.test("password-verification: concurrent failures are all counted (atomic in the database)", async () => {
  await withDb((sql) => sql`delete from private.password_failures where user_id = ${CUSTOMER_B}`);
  const results = await Promise.all(
    Array.from({ length: 8 }, () => callHook("password-verification", { user_id: CUSTOMER_B, valid: false })),
  );
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(results.filter((r) => r.body.decision === "continue").length, 4, "exactly 4 pass before the lock");
  const [row] = await withDb((sql) => sql`select failed_count from private.password_failures where user_id = ${CUSTOMER_B}`);
  assert.equal(row.failed_count, 8);
  await withDb((sql) => sql`delete from private.password_failures where user_id = ${CUSTOMER_B}`);
});

Deno.test("password-verification: unknown user → INVALID_BODY (400); bad payload → VALIDATION_FAILED (422), as Auth reads them", async () => {
  const unknown = await callHook("password-verification", { user_id: crypto.randomUUID(), valid: false });
  assert.equal(unknown.status, 200, JSON.stringify(unknown.body));
  assert.equal(unknown.body.code, "INVALID_BODY");
  assert.equal((unknown.body.error as { http_code: number }).http_code, 400);
  const bad = await callHook("password-verification", { user_id: OUTSIDER, valid: "no" });
  assert.equal(bad.status, 200, JSON.stringify(bad.body));
  assert.equal(bad.body.code, "VALIDATION_FAILED");
  assert.equal((bad.body.error as { http_code: number; message: string }).http_code, 422);
  assert.ok((bad.body.error as { message: string }).message.length > 0, "Auth ignores an empty message");
});

Deno.test("password-verification: a replayed delivery (same webhook-id) gets the first answer and is counted once", async () => {
  await withDb((sql) => sql`delete from private.password_failures where user_id = ${CUSTOMER_B}`);
  const body = JSON.stringify({ user_id: CUSTOMER_B, valid: false });
  const headers = standardHeaders(body, secrets.AUTH_HOOK_SECRET);
  const first = await post(hook("password-verification"), body, headers);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const replays = await Promise.all(Array.from({ length: 6 }, () => post(hook("password-verification"), body, headers)));
  for (const r of replays) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, first.body, "the first answer");
  }
  const [row] = await withDb((sql) => sql`select failed_count from private.password_failures where user_id = ${CUSTOMER_B}`);
  assert.equal(row.failed_count, 1, "counted once");
  // The same attempt under a new webhook-id (what Auth's own retry sends) is a new attempt.
  const retried = await post(hook("password-verification"), body, standardHeaders(body, secrets.AUTH_HOOK_SECRET));
  assert.equal(retried.status, 200);
  const [again] = await withDb((sql) => sql`select failed_count from private.password_failures where user_id = ${CUSTOMER_B}`);
  assert.equal(again.failed_count, 2);
  await withDb((sql) => sql`delete from private.password_failures where user_id = ${CUSTOMER_B}`);
});

Deno.test("auth hooks: database down → 503 UNAVAILABLE with Retry-After (Auth retries it)", async () => {
  const server = await startServer({ SUPABASE_DB_URL: `postgresql://postgres:postgres@127.0.0.1:${freePort()}/postgres` });
  try {
    const body = JSON.stringify({ user_id: OUTSIDER, valid: false });
    const res = await fetch(`${server.url}/functions/v1/auth-hooks/password-verification`, {
      method: "POST",
      headers: { "content-type": "application/json", ...standardHeaders(body, secrets.AUTH_HOOK_SECRET) },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.equal(res.headers.get("retry-after"), "1", "Auth retries 503 only with Retry-After");
    assert.equal(JSON.parse(text).code, "UNAVAILABLE");
    assert.ok(!text.includes("127.0.0.1"), "no connection details");
  } finally {
    await server.stop();
  }
});
