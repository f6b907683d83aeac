// The account function over HTTP (docs/privacy.md): a user exports every row
// about them, then erases their account with a confirmation token; the audit
// rows about them are redacted and both the database's chain check and
// `edgeguard audit verify` (public key only, signed checkpoints) still pass.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, devKeys, functionsUrl, mintToken } from "./stack.ts";
import { auditVerify } from "./audit_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const ADMIN_A = "aaaaaaaa-0000-4000-8000-000000000001";
const GLOBAL = "00000000-0000-0000-0000-000000000000";

/** A fresh user in tenant A with a key and a security event, and their token. */
async function freshUser(sql: postgres.Sql) {
  const id = crypto.randomUUID();
  const email = `erase-${id.slice(0, 8)}@tenant-a.test`;
  await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${email})`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${A}, ${id}, 'customer')`;
  await sql`insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash)
            values (${A}, ${id}, 'laptop', ${`egk_${id.slice(0, 8)}`}, ${(id + id).replaceAll("-", "")})`;
  await sql`insert into public.security_events (event_type, tenant_id, actor_id, details)
            values ('auth.denied', ${A}, ${id}, '{"route": "GET /me"}')`;
  const token = await mintToken({ sub: id, email, user_role: "customer", tenant_id: A });
  return { id, email, token, keyHash: (id + id).replaceAll("-", "") };
}

function call(path: string, token: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  return fetch(`${functionsUrl}${path}`, { ...init, headers });
}

/** `edgeguard audit verify --json` over the export of `chains`: exit code and report. */
async function verifyChains(sql: postgres.Sql, chains: string[]) {
  const [row] = await sql`select private.audit_export(${chains}::uuid[])::text as export`;
  return await auditVerify(row.export, (await devKeys()).env.AUDIT_VERIFY_KEY);
}

Deno.test("account: export, confirmed erasure, and the audit chain still verifies", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const user = await freshUser(sql);
    // audited writes about the user: their own (profile on first GET /me) and an admin's
    const me = await call("/me", user.token, { headers: { "user-agent": "erasure-test/1.0" } });
    assert.equal(me.status, 200, await me.text());
    const admin = await mintToken({ sub: ADMIN_A, email: "admin@tenant-a.test", user_role: "admin", tenant_id: A });
    const patch = await call(`/admin-users/${A}/members/${user.id}`, admin, {
      method: "PATCH",
      body: JSON.stringify({ role: "provider" }),
    });
    assert.equal(patch.status, 200, await patch.text());

    // export
    assert.equal((await (await call("/account/export", null)).json()).code, "MISSING_CREDENTIALS");
    const exp = await call("/account/export", user.token);
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get("content-disposition") ?? "", /attachment/);
    assert.ok(exp.headers.get("x-request-id"), "x-request-id on the export");
    const text = await exp.text();
    const doc = JSON.parse(text);
    assert.equal(doc.format, "edgeguard-account-export/v1");
    assert.equal(doc.user.email, user.email);
    assert.equal(doc.profile.id, user.id);
    assert.deepEqual(doc.memberships.map((m: { role: string }) => m.role), ["provider"]);
    assert.equal(doc.api_keys.length, 1);
    assert.ok(!("key_hash" in doc.api_keys[0]) && !text.includes(user.keyHash), "no key hash in the export");
    assert.equal(doc.security_events.length, 1);
    const tables = doc.audit_log.map((r: { table: string; operation: string }) => `${r.table} ${r.operation}`);
    assert.ok(tables.includes("public.profiles INSERT"), JSON.stringify(tables));
    assert.ok(tables.includes("public.tenant_members UPDATE"), JSON.stringify(tables));
    const byAdmin = doc.audit_log.find((r: { actor_id: string }) => r.actor_id === ADMIN_A);
    assert.equal(byAdmin.actor_claims, null, "the admin's claims are not the user's data");
    assert.ok(!text.includes("admin@tenant-a.test"), "no other person's e-mail in the export");

    // erasure needs a confirmation token of this user, fresh
    const noConfirm = await call("/account", user.token, { method: "DELETE", body: "{}" });
    assert.equal((await noConfirm.json()).code, "VALIDATION_FAILED");
    const forged = await call("/account", user.token, { method: "DELETE", body: JSON.stringify({ confirm: "er1.9999999999.AAAA" }) });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).code, "FORBIDDEN");
    const other = await freshUser(sql);
    const othersToken = await (await call("/account/erasure-token", other.token, { method: "POST" })).json();
    const wrongUser = await call("/account", user.token, { method: "DELETE", body: JSON.stringify({ confirm: othersToken.token }) });
    assert.equal(wrongUser.status, 403, "another user's confirmation does not erase me");
    assert.equal((await sql`select count(*)::int as n from auth.users where id = ${user.id}`)[0].n, 1);

    const issued = await call("/account/erasure-token", user.token, { method: "POST" });
    assert.equal(issued.status, 200);
    const confirm = await issued.json();
    assert.match(confirm.token, /^er1\.\d+\.[A-Za-z0-9_-]+$/);
    assert.equal(confirm.expires_in_s, 300);

    const del = await call("/account", user.token, { method: "DELETE", body: JSON.stringify({ confirm: confirm.token }) });
    const erased = await del.json();
    assert.equal(del.status, 200, JSON.stringify(erased));
    assert.equal(erased.erased, true);
    assert.equal(erased.memberships, 1);
    assert.equal(erased.api_keys, 1);
    assert.ok(erased.audit_rows_redacted >= 3, JSON.stringify(erased));
    assert.ok(!JSON.stringify(erased).includes(user.email), "no personal data in the answer");

    // gone, and the audit rows about the user redacted
    const [left] = await sql`select
      (select count(*)::int from auth.users where id = ${user.id}) as users,
      (select count(*)::int from public.profiles where id = ${user.id}) as profiles,
      (select count(*)::int from public.api_keys where user_id = ${user.id}) as keys,
      (select count(*)::int from public.security_events where actor_id = ${user.id}) as events,
      (select count(*)::int from public.audit_logs a where private.audit_row_mentions(a, ${user.id}, ${user.email})
         and a.table_name <> 'account.erased' and a.redacted_at is null) as unredacted,
      (select count(*)::int from public.audit_logs a where a.row_format = 2
         and position(${user.email} in coalesce(a.actor_claims::text, '') || coalesce(a.new_record::text, '')
                                        || coalesce(a.old_record::text, '')) > 0) as email_left`;
    assert.deepEqual(left, { users: 0, profiles: 0, keys: 0, events: 0, unredacted: 0, email_left: 0 });

    // the chains verify: in the database, and outside it with the public key only
    for (const chain of [A, null]) {
      const [v] = await sql`select valid, reason from public.verify_audit_chain(${chain}::uuid)`;
      assert.deepEqual([v.valid, v.reason], [true, null], `verify_audit_chain(${chain})`);
    }
    const verified = await verifyChains(sql, [A, GLOBAL]);
    assert.equal(verified.code, 0, JSON.stringify(verified.report));
    for (const c of verified.report.chains) {
      assert.equal(c.unverified_tail, 0, `chain ${c.chain_id} is signed through its head after the erasure`);
    }

    // the confirmation cannot erase twice
    const again = await call("/account", user.token, { method: "DELETE", body: JSON.stringify({ confirm: confirm.token }) });
    assert.equal((await again.json()).code, "NOT_FOUND");
    await sql`delete from auth.users where id = ${other.id}`;
  } finally {
    await sql.end();
  }
});
