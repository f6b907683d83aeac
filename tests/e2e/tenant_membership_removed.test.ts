// A removed member loses the tenant at their next token: the access-token hook
// (migration 20261123000500) writes `tenant_id` from memberships only, and the
// core reads tenant, role and permissions from those top-level claims, never
// from the `app_metadata.tenant_id` that outlives the membership.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, functionsUrl, mintToken } from "./stack.ts";
import { now, post, stackSecrets, standardHeaders } from "./webhooks_support.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const secrets = await stackSecrets();

/** The claims Supabase Auth would issue for `user` after the hook, as the hook answers. */
async function hookClaims(user: string, email: string): Promise<Record<string, unknown>> {
  const t = now();
  const claims = {
    aud: "authenticated", exp: t + 3600, iat: t, sub: user, email, phone: "", role: "authenticated",
    aal: "aal1", session_id: crypto.randomUUID(), is_anonymous: false,
    app_metadata: { provider: "email", tenant_id: A }, // stays after the membership is gone
  };
  const body = JSON.stringify({ user_id: user, claims, authentication_method: "password" });
  const res = await post(`${functionsUrl}/auth-hooks/custom-access-token`, body, standardHeaders(body, secrets.AUTH_HOOK_SECRET));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { claims: Record<string, unknown> }).claims;
}

Deno.test("remove membership → new token → 403 TENANT_MISMATCH (app_metadata.tenant_id is not a claim source)", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const user = crypto.randomUUID();
  const email = `removed-${user}@tenant.test`;
  try {
    await sql`insert into auth.users (id, aud, role, email, raw_app_meta_data)
              values (${user}, 'authenticated', 'authenticated', ${email}, ${sql.json({ tenant_id: A })})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${A}, ${user}, 'admin')`;

    const member = await hookClaims(user, email);
    assert.equal(member.tenant_id, A, "a member's token carries the tenant");
    const before = await fetch(`${functionsUrl}/admin-users/${A}/members`, {
      headers: { authorization: `Bearer ${await mintToken(member)}` },
    });
    assert.equal(before.status, 200, await before.text());

    await sql`delete from public.tenant_members where tenant_id = ${A} and user_id = ${user}`;
    const removed = await hookClaims(user, email);
    assert.equal(removed.tenant_id, undefined, "the hook writes no tenant for a non-member");
    assert.equal((removed.app_metadata as { tenant_id?: string }).tenant_id, A, "app_metadata still names the tenant");
    const after = await fetch(`${functionsUrl}/admin-users/${A}/members`, {
      headers: { authorization: `Bearer ${await mintToken(removed)}` },
    });
    const body = await errorBody(after);
    assert.equal(`${after.status} ${body.code}`, "403 TENANT_MISMATCH", JSON.stringify(body));
  } finally {
    await sql`delete from public.tenant_members where user_id = ${user}`;
    await sql`delete from auth.users where id = ${user}`;
    await sql.end();
  }
});
