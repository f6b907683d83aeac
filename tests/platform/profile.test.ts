// What a function does under the environment the platform really gives it
// (scripts/lib/platform_profile.ts, docs/platform.md). `npm test` restarts
// the test stack once per profile (EDGEGUARD_PROFILE = start-legacy,
// start-signing-keys, hosted) and runs this file against it: health, the
// client-IP check, identity, a webhook and an auth hook, each over HTTP.
import * as assert from "../e2e/assert.ts";
import { devKeys, functionsUrl, mintToken } from "../e2e/stack.ts";
import { now, post, standardHeaders, uid } from "../e2e/webhooks_support.ts";
import { profileName } from "../../scripts/lib/platform_profile.ts";

const profile = profileName(Deno.env.get("EDGEGUARD_PROFILE"));
const keys = await devKeys();
const hosted = profile === "hosted";
const legacy = profile === "start-legacy";
const ADMIN_A = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT_A = "aaaaaaaa-0000-4000-8000-000000000000";

async function json(res: Response): Promise<Record<string, unknown>> {
  return await res.json() as Record<string, unknown>;
}

Deno.test(`${profile}: health answers 200 with no identity configuration involved`, async () => {
  const res = await fetch(`${functionsUrl}/health`);
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "ok");
});

Deno.test(`${profile}: /health/ip shows secret-key callers the IP source, others are refused`, async () => {
  const headers = { apikey: keys.env.SUPABASE_SECRET_KEY, "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "198.51.100.9" };
  const res = await fetch(`${functionsUrl}/health/ip`, { headers });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), ["client_ip", "header", "header_present", "source"]);
  if (hosted) {
    assert.equal(body.source, "cf-connecting-ip");
    assert.equal(body.client_ip, "203.0.113.7");
  } else {
    assert.equal(body.source, "x-forwarded-for:1");
    assert.equal(body.client_ip, "198.51.100.9");
  }
  const anon = await fetch(`${functionsUrl}/health/ip`, { headers: { apikey: keys.env.SUPABASE_PUBLISHABLE_KEY } });
  assert.equal(anon.status, 401, "a publishable key is not enough");
  await anon.body?.cancel();
});

Deno.test(`${profile}: a user token signed the way this platform signs is accepted`, async () => {
  const token = await mintToken({ sub: ADMIN_A }, { alg: legacy ? "HS256" : "ES256" });
  const res = await fetch(`${functionsUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal((body.identity as Record<string, unknown> | undefined)?.sub ?? body.sub, ADMIN_A);
});

Deno.test(`${profile}: a token this platform cannot have signed is 401, with a hint only outside production`, async () => {
  const token = await mintToken({ sub: ADMIN_A }, { alg: legacy ? "ES256" : "HS256" });
  const res = await fetch(`${functionsUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
  const body = await json(res);
  assert.equal(res.status, 401, JSON.stringify(body));
  assert.equal(body.code, "INVALID_JWT");
  assert.equal("hint" in body, !hosted, `hint ${hosted ? "absent in production" : "present"}: ${JSON.stringify(body)}`);
  assert.ok(!JSON.stringify(body).includes(token), "the token is never echoed");
});

Deno.test(`${profile}: a Standard Webhooks delivery is verified and accepted`, async () => {
  const body = JSON.stringify({ type: "profile.check", timestamp: new Date().toISOString(), data: { id: uid("evt_") } });
  const res = await post(`${functionsUrl}/webhooks/standard`, body, standardHeaders(body, keys.env.STANDARD_WEBHOOK_SECRET));
  assert.ok(res.status >= 200 && res.status < 300, `${res.status} ${JSON.stringify(res.body)}`);
  const bad = await post(`${functionsUrl}/webhooks/standard`, body, standardHeaders(body, `v1,whsec_${btoa("x".repeat(32))}`));
  assert.equal(bad.status, 401, JSON.stringify(bad.body));
});

Deno.test(`${profile}: the access-token hook answers Supabase Auth with the claims it must keep`, async () => {
  const t = now();
  const claims = {
    aud: "authenticated", exp: t + 3600, iat: t, sub: ADMIN_A, email: "a@example.test", phone: "",
    role: "authenticated", aal: "aal1", session_id: crypto.randomUUID(), is_anonymous: false,
  };
  const body = JSON.stringify({ user_id: ADMIN_A, claims, authentication_method: "password" });
  const res = await post(`${functionsUrl}/auth-hooks/custom-access-token`, body, standardHeaders(body, keys.env.AUTH_HOOK_SECRET));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const out = (res.body as { claims: Record<string, unknown> }).claims;
  for (const k of Object.keys(claims)) assert.deepEqual(out[k], (claims as Record<string, unknown>)[k], `claim ${k} kept`);
  assert.equal(out.tenant_id, TENANT_A);
});
