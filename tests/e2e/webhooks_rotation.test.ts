// Secret rotation and misconfiguration: extra function servers started with
// several secrets per provider (comma-separated, and Supabase's
// `v1,whsec_…|v1,whsec_…` form), or with missing / too-short secrets.
import * as assert from "./assert.ts";
import { startServer } from "./stack.ts";
import {
  freshSecret,
  githubSignature,
  post,
  shopifySignature,
  standardHeaders,
  stripeHeader,
  uid,
} from "./webhooks_support.ts";

Deno.test("rotation: deliveries signed with the old or the new secret pass; a third secret fails", async () => {
  const s = {
    stripe: [freshSecret.stripe(), freshSecret.stripe(), freshSecret.stripe()],
    github: [freshSecret.raw(), freshSecret.raw(), freshSecret.raw()],
    shopify: [freshSecret.raw(), freshSecret.raw(), freshSecret.raw()],
    standard: [freshSecret.standard(), freshSecret.standard(), freshSecret.standard()],
    hook: [freshSecret.standard(), freshSecret.standard(), freshSecret.standard()],
  };
  const server = await startServer({
    EDGEGUARD_QUIET: "1",
    STRIPE_WEBHOOK_SECRET: `${s.stripe[0]},${s.stripe[1]}`,
    GITHUB_WEBHOOK_SECRET: `${s.github[0]}, ${s.github[1]}`,
    SHOPIFY_WEBHOOK_SECRET: `${s.shopify[0]},${s.shopify[1]}`,
    STANDARD_WEBHOOK_SECRET: `${s.standard[0]},${s.standard[1]}`,
    AUTH_HOOK_SECRET: `v1,${s.hook[0]}|v1,${s.hook[1]}`,
  });
  try {
    const url = (p: string) => `${server.url}/functions/v1/webhooks/${p}`;
    for (const [i, expected] of [[0, 200], [1, 200], [2, 401]] as const) {
      const e = JSON.stringify({ id: uid("evt_"), type: "rotation.test" });
      const r1 = await post(url("stripe"), e, { "stripe-signature": await stripeHeader(e, s.stripe[i]) });
      assert.equal(r1.status, expected, `stripe secret ${i}: ${JSON.stringify(r1.body)}`);

      const g = JSON.stringify({ zen: uid("z") });
      const r2 = await post(url("github"), g, { "x-hub-signature-256": githubSignature(g, s.github[i]), "x-github-delivery": crypto.randomUUID() });
      assert.equal(r2.status, expected, `github secret ${i}: ${JSON.stringify(r2.body)}`);

      const sh = JSON.stringify({ id: uid("p") });
      const r3 = await post(url("shopify"), sh, { "x-shopify-hmac-sha256": shopifySignature(sh, s.shopify[i]), "x-shopify-webhook-id": crypto.randomUUID() });
      assert.equal(r3.status, expected, `shopify secret ${i}: ${JSON.stringify(r3.body)}`);

      const st = JSON.stringify({ type: "rotation.test", n: uid("n") });
      const r4 = await post(url("standard"), st, standardHeaders(st, s.standard[i]));
      assert.equal(r4.status, expected, `standard secret ${i}: ${JSON.stringify(r4.body)}`);

      const hk = JSON.stringify({ user_id: "cccccccc-0000-4000-8000-000000000001", valid: true });
      const r5 = await post(`${server.url}/functions/v1/auth-hooks/password-verification`, hk, standardHeaders(hk, s.hook[i]));
      // Auth hooks answer refusals 200 with Supabase Auth's error object (docs/platform.md).
      assert.equal(r5.status, 200, `auth hook secret ${i}: ${JSON.stringify(r5.body)}`);
      assert.equal((r5.body.error as { http_code?: number } | undefined)?.http_code, expected === 401 ? 401 : undefined);
      if (expected === 401) {
        for (const r of [r1, r2, r3, r4, r5]) assert.equal(r.body.code, "INVALID_SIGNATURE");
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("misconfiguration: a missing or too-short secret answers 500 MISCONFIGURED for that provider only", async () => {
  const server = await startServer({ EDGEGUARD_QUIET: "1", GITHUB_WEBHOOK_SECRET: "", STRIPE_WEBHOOK_SECRET: "tinyS3cr3t", AUTH_HOOK_SECRET: "" });
  try {
    const url = (p: string) => `${server.url}/functions/v1/${p}`;
    const body = JSON.stringify({ id: uid("evt_") });
    for (const path of ["webhooks/github", "webhooks/stripe", "auth-hooks/password-verification"]) {
      const r = await post(url(path), path.startsWith("auth") ? JSON.stringify({ user_id: crypto.randomUUID(), valid: true }) : body, {});
      assert.equal(r.status, 500, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, "MISCONFIGURED");
      assert.ok(!JSON.stringify(r.body).includes("tinyS3cr3t"), "no secret value in the answer");
    }
    const r = await post(url("webhooks/shopify"), body, {});
    assert.equal(r.status, 401, "shopify is configured and still verifies");
    assert.equal(r.body.code, "INVALID_SIGNATURE");
  } finally {
    await server.stop();
  }
});

Deno.test("misconfiguration in production: webhooks and auth-hooks refuse to start", async () => {
  const server = await startServer({ EDGEGUARD_QUIET: "1", APP_ENV: "production", GITHUB_WEBHOOK_SECRET: "", AUTH_HOOK_SECRET: "" });
  try {
    for (const path of ["webhooks/stripe", "auth-hooks/custom-access-token"]) {
      const r = await post(`${server.url}/functions/v1/${path}`, "{}", {});
      assert.equal(r.status, 500, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, "MISCONFIGURED");
    }
    const out = server.output();
    assert.ok(out.includes("webhooks refused to start"), out);
    assert.ok(out.includes("auth-hooks refused to start"), out);
  } finally {
    await server.stop();
  }
});
