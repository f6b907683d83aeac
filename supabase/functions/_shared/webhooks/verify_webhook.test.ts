// verifyWebhook through the real wasm: signatures made by the providers' SDKs
// (stripe, standardwebhooks) and node:crypto (GitHub, Shopify).
import { Webhook } from "npm:standardwebhooks@1.1.1";
import { webhookVerifiers } from "./verify_webhook.ts";
import { assert, eq, randomSecret } from "../test_assert.ts";

// stripe's and node:crypto's type declarations need @types/node, which the
// tree does not install: load them untyped (computed specifiers are not type-checked).
const nodeCrypto = "node:crypto";
const { createHmac } = (await import(nodeCrypto)) as {
  createHmac(alg: string, key: string): { update(b: Uint8Array | string): { digest(enc: "hex" | "base64"): string } };
};
const stripeSpecifier = "npm:stripe@23.1.0";
type StripeWebhooks = {
  generateTestHeaderStringAsync(o: { payload: string; secret: string; timestamp?: number }): Promise<string>;
};
const { default: Stripe } = (await import(stripeSpecifier)) as {
  default: new (key: string) => { webhooks: StripeWebhooks };
};

const enc = new TextEncoder();
const stripeSecret = `whsec_${randomSecret()}`;
const githubSecret = randomSecret();
const shopifySecret = randomSecret();
const standardKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const env = {
  STRIPE_WEBHOOK_SECRET: stripeSecret,
  GITHUB_WEBHOOK_SECRET: githubSecret,
  SHOPIFY_WEBHOOK_SECRET: shopifySecret,
  STANDARD_WEBHOOK_SECRET: `v1,whsec_${standardKey}`,
  AUTH_HOOK_SECRET: `v1,whsec_${standardKey}`,
  UNRELATED: "ignored",
};
const verifiers = await webhookVerifiers(env);

Deno.test("stripe: SDK test header verifies; the event id is the body's id", async () => {
  const body = JSON.stringify({ id: "evt_unit_1", object: "event", type: "ping" });
  const header = await new Stripe("sk_test_x").webhooks.generateTestHeaderStringAsync({ payload: body, secret: stripeSecret });
  const d = verifiers.verify("stripe", new Headers({ "stripe-signature": header }), enc.encode(body));
  assert(d.ok, JSON.stringify(d));
  eq(d.event_id, "evt_unit_1", "event id");
  eq(d.event_id_signed, true, "signed id");
  const tampered = verifiers.verify("stripe", new Headers({ "stripe-signature": header }), enc.encode(body + " "));
  assert(!tampered.ok, "tampered body must fail");
  eq(tampered.code, "INVALID_SIGNATURE", "code");
  eq(tampered.status, 401, "status");
});

Deno.test("github: node:crypto signature verifies; the delivery id is unsigned", () => {
  const body = enc.encode('{"zen":"Keep it logically awesome."}');
  const sig = "sha256=" + createHmac("sha256", githubSecret).update(body).digest("hex");
  const headers = new Headers({ "x-hub-signature-256": sig, "x-github-delivery": "d-1" });
  const d = verifiers.verify("github", headers, body);
  assert(d.ok, JSON.stringify(d));
  eq(d.event_id, "d-1", "delivery id");
  eq(d.event_id_signed, false, "unsigned id");
  const wrong = verifiers.verify("github", new Headers({ "x-hub-signature-256": sig.replace(/.$/, (c) => c === "0" ? "1" : "0") }), body);
  eq(wrong.ok, false, "altered signature");
});

Deno.test("shopify: base64 HMAC of the raw body", () => {
  const body = enc.encode('{"id":1}');
  const sig = createHmac("sha256", shopifySecret).update(body).digest("base64");
  const d = verifiers.verify("shopify", new Headers({ "x-shopify-hmac-sha256": sig, "x-shopify-webhook-id": "w-1" }), body);
  assert(d.ok, JSON.stringify(d));
  eq(d.event_id, "w-1", "webhook id");
});

Deno.test("standard and auth_hook: standardwebhooks Webhook.sign verifies at the signing time", () => {
  const wh = new Webhook(standardKey);
  const at = new Date();
  const body = '{"user_id":"u","valid":false}';
  const sig = wh.sign("msg_1", at, body);
  const headers = new Headers({ "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": sig });
  for (const endpoint of ["standard", "auth_hook"]) {
    const d = verifiers.verify(endpoint, headers, enc.encode(body), at.getTime());
    assert(d.ok, `${endpoint}: ${JSON.stringify(d)}`);
    eq(d.event_id, "msg_1", "webhook-id");
  }
  const late = verifiers.verify("standard", headers, enc.encode(body), at.getTime() + 301_000);
  assert(!late.ok && late.code === "INVALID_SIGNATURE", "stale timestamp refused");
});

Deno.test("problems: unset secrets and unknown endpoints are named, secrets never shown", async () => {
  const partial = await webhookVerifiers({ STRIPE_WEBHOOK_SECRET: stripeSecret });
  const p = partial.problems(["stripe", "github", "nope"]);
  eq(p.stripe, undefined, "stripe ready");
  assert(p.github?.includes("GITHUB_WEBHOOK_SECRET"), `github problem: ${p.github}`);
  assert(p.nope !== undefined, "unknown endpoint");
  assert(!JSON.stringify(p).includes(stripeSecret), "no secret in problems");
  const d = partial.verify("github", new Headers(), new Uint8Array());
  assert(!d.ok && d.code === "MISCONFIGURED" && d.status === 500, JSON.stringify(d));
  eq(Object.keys(verifiers.problems(["stripe", "shopify", "github", "standard", "auth_hook"])).length, 0, "all ready");
});
