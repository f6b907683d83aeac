// The `webhooks` function over HTTP: deliveries signed by the providers' SDKs
// (stripe, standardwebhooks, svix) and node:crypto (GitHub, Shopify) against
// the running stack. Every case asserts status and code.
import * as assert from "./assert.ts";
import { functionsUrl } from "./stack.ts";
import {
  githubSignature,
  now,
  post,
  securityEvents,
  shopifySignature,
  stackSecrets,
  standardHeaders,
  stripeHeader,
  svixHeaders,
  uid,
  webhookRows,
  withDb,
} from "./webhooks_support.ts";

const url = (provider: string) => `${functionsUrl}/webhooks/${provider}`;
const secrets = await stackSecrets();
const wrong = {
  stripe: "whsec_" + "0".repeat(48),
  raw: "f".repeat(64),
  standard: "whsec_" + btoa("x".repeat(32)),
};

/** A refusal: status, SPEC code, and the security event of that request (no body stored). */
async function refused(
  res: { status: number; body: Record<string, unknown>; requestId: string | null },
  status: number,
  code: string,
  bodyMarker?: string,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  if (status === 401) {
    assert.ok(res.requestId, "x-request-id");
    const events = await withDb((sql) => securityEvents(sql, res.requestId!));
    assert.equal(events.length, 1, "one security event for the refused delivery");
    assert.equal(events[0].event_type, "webhook_signature_invalid");
    if (bodyMarker) assert.ok(!JSON.stringify(events[0]).includes(bodyMarker), "the body is not stored");
  }
}

const ok = (res: { status: number; body: Record<string, unknown> }, duplicate = false) => {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.duplicate, duplicate, JSON.stringify(res.body));
};

// --- Stripe ------------------------------------------------------------------

function stripeEvent(type = "payment_intent.succeeded") {
  const id = uid("evt_");
  const marker = uid("secret-card-");
  return { id, marker, body: JSON.stringify({ id, object: "event", type, data: { object: { note: marker } } }) };
}

Deno.test("stripe: a delivery signed by stripe-node is verified, recorded and handled", async () => {
  const e = stripeEvent();
  const res = await post(url("stripe"), e.body, { "stripe-signature": await stripeHeader(e.body, secrets.STRIPE_WEBHOOK_SECRET) });
  ok(res);
  assert.deepEqual(res.body.result, { type: "payment_intent.succeeded", handled: false });
  const rows = await withDb((sql) => webhookRows(sql, "stripe", e.id));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].event_type, "payment_intent.succeeded");
  assert.equal(rows[0].status, "processed");
});

Deno.test("stripe: tampered body, wrong secret, stale and future timestamps → 401 INVALID_SIGNATURE", async () => {
  const s = secrets.STRIPE_WEBHOOK_SECRET;
  const e = stripeEvent();
  const header = await stripeHeader(e.body, s);
  await refused(await post(url("stripe"), e.body.replace("payment_intent", "payment_intenT"), { "stripe-signature": header }), 401, "INVALID_SIGNATURE", e.marker);
  await refused(await post(url("stripe"), e.body, { "stripe-signature": await stripeHeader(e.body, wrong.stripe) }), 401, "INVALID_SIGNATURE", e.marker);
  await refused(await post(url("stripe"), e.body, { "stripe-signature": await stripeHeader(e.body, s, now() - 600) }), 401, "INVALID_SIGNATURE");
  await refused(await post(url("stripe"), e.body, { "stripe-signature": await stripeHeader(e.body, s, now() + 600) }), 401, "INVALID_SIGNATURE");
  assert.equal((await withDb((sql) => webhookRows(sql, "stripe", e.id))).length, 0, "nothing recorded");
});

Deno.test("stripe: missing or malformed Stripe-Signature → 401 INVALID_SIGNATURE", async () => {
  const e = stripeEvent();
  const t = now();
  for (const header of [undefined, "", "garbage", `t=${t}`, `t=${t},v1=zz`, `v1=${"a".repeat(64)}`, `t=abc,v1=${"a".repeat(64)}`, `t=${t},v0=${"a".repeat(64)}`]) {
    const headers: Record<string, string> = header === undefined ? {} : { "stripe-signature": header };
    await refused(await post(url("stripe"), e.body, headers), 401, "INVALID_SIGNATURE");
  }
});

Deno.test("unsigned bodies are refused as unsigned (401) before any parsing; signed malformed JSON is 400", async () => {
  for (const body of ['{"id":', "not json at all", '{"a":1,"a":2}']) {
    for (const provider of ["stripe", "github", "shopify", "standard"] as const) {
      await refused(await post(url(provider), body, {}), 401, "INVALID_SIGNATURE");
    }
    await refused(await post(url("stripe"), body, { "content-type": "text/plain" }), 401, "INVALID_SIGNATURE");
  }
  const broken = '{"id":"evt_broken",';
  await refused(await post(url("stripe"), broken, { "stripe-signature": await stripeHeader(broken, secrets.STRIPE_WEBHOOK_SECRET) }), 400, "INVALID_BODY");
});

Deno.test("stripe: several v1 signatures (secret rolling): one valid among invalid ones passes", async () => {
  const e = stripeEvent();
  const header = await stripeHeader(e.body, secrets.STRIPE_WEBHOOK_SECRET);
  const [t, v1] = header.split(",");
  const other = (await stripeHeader(e.body, wrong.stripe, Number(t.slice(2)))).split(",")[1];
  ok(await post(url("stripe"), e.body, { "stripe-signature": `${t},${other},${v1},v0=${"b".repeat(64)}` }));
  await refused(await post(url("stripe"), e.body, { "stripe-signature": `${t},${other},${other}` }), 401, "INVALID_SIGNATURE");
});

Deno.test("stripe: a replayed delivery answers 200 {duplicate:true} and runs nothing twice", async () => {
  const e = stripeEvent();
  const headers = { "stripe-signature": await stripeHeader(e.body, secrets.STRIPE_WEBHOOK_SECRET) };
  ok(await post(url("stripe"), e.body, headers));
  const again = await post(url("stripe"), e.body, headers);
  ok(again, true);
  assert.equal(again.body.result, undefined, "the handler did not run");
  assert.equal((await withDb((sql) => webhookRows(sql, "stripe", e.id))).length, 1);
});

Deno.test("stripe: 12 concurrent deliveries of one event: exactly one is handled", async () => {
  const e = stripeEvent();
  const headers = { "stripe-signature": await stripeHeader(e.body, secrets.STRIPE_WEBHOOK_SECRET) };
  const results = await Promise.all(Array.from({ length: 12 }, () => post(url("stripe"), e.body, headers)));
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(results.filter((r) => r.body.duplicate === false).length, 1, "handled once");
  assert.equal(results.filter((r) => r.body.duplicate === true).length, 11, "the others are duplicates");
  assert.equal((await withDb((sql) => webhookRows(sql, "stripe", e.id))).length, 1);
});

Deno.test("stripe: a verified body without an event id → 400 INVALID_BODY", async () => {
  const body = JSON.stringify({ object: "event", type: "x" });
  const res = await post(url("stripe"), body, { "stripe-signature": await stripeHeader(body, secrets.STRIPE_WEBHOOK_SECRET) });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, "INVALID_BODY");
  // verified, so not a signature failure: no security event
  const events = await withDb(async (sql) => [...await sql`select 1 from public.security_events where request_id = ${res.requestId}`]);
  assert.equal(events.length, 0);
});

Deno.test("webhooks: a body over the route limit (256 KiB; GitHub 1 MiB) → 413 PAYLOAD_TOO_LARGE, before any verification", async () => {
  const big = JSON.stringify({ id: uid("evt_"), pad: "x".repeat(300 * 1024) });
  const res = await post(url("stripe"), big, { "stripe-signature": await stripeHeader(big, secrets.STRIPE_WEBHOOK_SECRET) });
  assert.equal(res.status, 413);
  assert.equal(res.body.code, "PAYLOAD_TOO_LARGE");
  // streamed without a content-length: the limit holds while reading
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("x".repeat(32 * 1024)));
      c.close();
    },
  });
  const res2 = await fetch(url("shopify"), { method: "POST", headers: { "content-type": "application/json" }, body: stream });
  const body2 = await res2.json();
  assert.equal(res2.status, 413);
  assert.equal(body2.code, "PAYLOAD_TOO_LARGE");
  // GitHub push payloads run larger: 300 KiB passes the size check (and is then verified), 1.1 MiB does not
  const push = JSON.stringify({ zen: uid("z"), pad: "y".repeat(300 * 1024) });
  const r3 = await post(url("github"), push, { "x-hub-signature-256": githubSignature(push, secrets.GITHUB_WEBHOOK_SECRET), "x-github-delivery": crypto.randomUUID() });
  assert.equal(r3.status, 200, JSON.stringify(r3.body));
  const huge = JSON.stringify({ zen: uid("z"), pad: "y".repeat(1100 * 1024) });
  const r4 = await post(url("github"), huge, { "x-hub-signature-256": githubSignature(huge, secrets.GITHUB_WEBHOOK_SECRET) });
  assert.equal(r4.status, 413);
  assert.equal(r4.body.code, "PAYLOAD_TOO_LARGE");
});

Deno.test("webhooks: unknown provider → 404 NOT_FOUND; GET → 405 METHOD_NOT_ALLOWED", async () => {
  const r1 = await post(url("paypal"), "{}", {});
  assert.equal(r1.status, 404);
  assert.equal(r1.body.code, "NOT_FOUND");
  const r2 = await fetch(url("stripe"));
  const b2 = await r2.json();
  assert.equal(r2.status, 405);
  assert.equal(b2.code, "METHOD_NOT_ALLOWED");
});

// --- GitHub --------------------------------------------------------------------

function githubDelivery() {
  const marker = uid("repo-");
  return { body: JSON.stringify({ zen: "Design for failure.", hook_id: 1, repository: { name: marker } }), marker, delivery: crypto.randomUUID() };
}

Deno.test("github: a ping signed with node:crypto is verified and handled", async () => {
  const d = githubDelivery();
  const res = await post(url("github"), d.body, {
    "x-hub-signature-256": githubSignature(d.body, secrets.GITHUB_WEBHOOK_SECRET),
    "x-github-delivery": d.delivery,
    "x-github-event": "ping",
  });
  ok(res);
  assert.deepEqual(res.body.result, { type: "ping", handled: true });
  assert.equal((await withDb((sql) => webhookRows(sql, "github", d.delivery))).length, 1);
});

Deno.test("github: form-encoded deliveries verify over the raw form bytes", async () => {
  const body = "payload=" + encodeURIComponent(JSON.stringify({ zen: uid("z") }));
  const res = await post(url("github"), body, {
    "content-type": "application/x-www-form-urlencoded",
    "x-hub-signature-256": githubSignature(body, secrets.GITHUB_WEBHOOK_SECRET),
    "x-github-delivery": crypto.randomUUID(),
    "x-github-event": "push",
  });
  ok(res);
});

Deno.test("github: tampered, wrong secret, missing, malformed and SHA-1-only signatures → 401", async () => {
  const d = githubDelivery();
  const s = secrets.GITHUB_WEBHOOK_SECRET;
  const sig = githubSignature(d.body, s);
  const base = { "x-github-delivery": d.delivery, "x-github-event": "push" };
  await refused(await post(url("github"), d.body + " ", { ...base, "x-hub-signature-256": sig }), 401, "INVALID_SIGNATURE", d.marker);
  await refused(await post(url("github"), d.body, { ...base, "x-hub-signature-256": githubSignature(d.body, wrong.raw) }), 401, "INVALID_SIGNATURE");
  await refused(await post(url("github"), d.body, base), 401, "INVALID_SIGNATURE");
  for (const bad of ["sha256=", "sha256=xyz", sig.toUpperCase(), sig.slice(0, -2), sig.replace("sha256=", "sha1="), `${sig} ${sig}`]) {
    await refused(await post(url("github"), d.body, { ...base, "x-hub-signature-256": bad }), 401, "INVALID_SIGNATURE");
  }
  const sha1 = "sha1=" + "0".repeat(40);
  await refused(await post(url("github"), d.body, { ...base, "x-hub-signature": sha1 }), 401, "INVALID_SIGNATURE");
});

Deno.test("github: redelivery is a duplicate; a captured body resent under a fresh (unsigned) delivery id too", async () => {
  const d = githubDelivery();
  const sig = githubSignature(d.body, secrets.GITHUB_WEBHOOK_SECRET);
  ok(await post(url("github"), d.body, { "x-hub-signature-256": sig, "x-github-delivery": d.delivery, "x-github-event": "push" }));
  ok(await post(url("github"), d.body, { "x-hub-signature-256": sig, "x-github-delivery": d.delivery, "x-github-event": "push" }), true);
  const replay = await post(url("github"), d.body, {
    "x-hub-signature-256": sig,
    "x-github-delivery": crypto.randomUUID(),
    "x-github-event": "delete",
  });
  ok(replay, true);
});

// --- Shopify -------------------------------------------------------------------

Deno.test("shopify: verified with node:crypto base64 HMAC; duplicate by X-Shopify-Webhook-Id", async () => {
  const body = JSON.stringify({ id: Date.now(), title: uid("product-") });
  const id = crypto.randomUUID();
  const headers = {
    "x-shopify-hmac-sha256": shopifySignature(body, secrets.SHOPIFY_WEBHOOK_SECRET),
    "x-shopify-webhook-id": id,
    "x-shopify-topic": "products/update",
  };
  const res = await post(url("shopify"), body, headers);
  ok(res);
  assert.deepEqual(res.body.result, { type: "products/update", handled: false });
  ok(await post(url("shopify"), body, headers), true);
  assert.equal((await withDb((sql) => webhookRows(sql, "shopify", id))).length, 1);
});

Deno.test("shopify: tampered, wrong secret, missing, malformed → 401 INVALID_SIGNATURE", async () => {
  const marker = uid("product-");
  const body = JSON.stringify({ id: 7, title: marker });
  const sig = shopifySignature(body, secrets.SHOPIFY_WEBHOOK_SECRET);
  const base = { "x-shopify-webhook-id": crypto.randomUUID(), "x-shopify-topic": "orders/create" };
  await refused(await post(url("shopify"), body.replace("7", "8"), { ...base, "x-shopify-hmac-sha256": sig }), 401, "INVALID_SIGNATURE", marker);
  await refused(await post(url("shopify"), body, { ...base, "x-shopify-hmac-sha256": shopifySignature(body, wrong.raw) }), 401, "INVALID_SIGNATURE");
  await refused(await post(url("shopify"), body, base), 401, "INVALID_SIGNATURE");
  for (const bad of ["", "not base64!", sig.slice(0, -4), sig.replace(/=$/, ""), Array.from(sig).reverse().join("")]) {
    await refused(await post(url("shopify"), body, { ...base, "x-shopify-hmac-sha256": bad }), 401, "INVALID_SIGNATURE");
  }
});

// --- Standard Webhooks ------------------------------------------------------------

function standardEvent() {
  const marker = uid("user-");
  return { body: JSON.stringify({ type: "user.created", data: { id: marker } }), marker };
}

Deno.test("standard: signed by standardwebhooks and by svix (svix-* headers) → 200", async () => {
  const e = standardEvent();
  const h = standardHeaders(e.body, secrets.STANDARD_WEBHOOK_SECRET);
  const res = await post(url("standard"), e.body, h);
  ok(res);
  assert.deepEqual(res.body.result, { type: "user.created", handled: false });
  assert.equal((await withDb((sql) => webhookRows(sql, "standard", h["webhook-id"]))).length, 1);
  const e2 = standardEvent();
  ok(await post(url("standard"), e2.body, svixHeaders(e2.body, secrets.STANDARD_WEBHOOK_SECRET)));
});

Deno.test("standard: tampered, wrong secret, stale, future, missing and malformed headers → 401", async () => {
  const s = secrets.STANDARD_WEBHOOK_SECRET;
  const e = standardEvent();
  const h = standardHeaders(e.body, s);
  await refused(await post(url("standard"), e.body.replace("created", "deleted"), h), 401, "INVALID_SIGNATURE", e.marker);
  await refused(await post(url("standard"), e.body, standardHeaders(e.body, wrong.standard)), 401, "INVALID_SIGNATURE");
  await refused(await post(url("standard"), e.body, standardHeaders(e.body, s, { timestamp: now() - 600 })), 401, "INVALID_SIGNATURE");
  await refused(await post(url("standard"), e.body, standardHeaders(e.body, s, { timestamp: now() + 600 })), 401, "INVALID_SIGNATURE");
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const partial: Record<string, string> = { ...h };
    delete partial[name];
    await refused(await post(url("standard"), e.body, partial), 401, "INVALID_SIGNATURE");
  }
  for (const bad of ["v1", "v1,", "v1,@@@", "v2," + h["webhook-signature"].slice(3), h["webhook-signature"].slice(3)]) {
    await refused(await post(url("standard"), e.body, { ...h, "webhook-signature": bad }), 401, "INVALID_SIGNATURE");
  }
  await refused(await post(url("standard"), e.body, { ...h, "webhook-timestamp": "soon" }), 401, "INVALID_SIGNATURE");
  // the id is signed: the same signature under another webhook-id fails
  await refused(await post(url("standard"), e.body, { ...h, "webhook-id": uid("msg_") }), 401, "INVALID_SIGNATURE");
});

Deno.test("standard: several signatures, space- or ', '-separated: one valid one passes", async () => {
  const s = secrets.STANDARD_WEBHOOK_SECRET;
  for (const sep of [" ", ", "]) {
    const e = standardEvent();
    const h = standardHeaders(e.body, s);
    const other = standardHeaders(e.body, wrong.standard, { id: h["webhook-id"], timestamp: Number(h["webhook-timestamp"]) });
    ok(await post(url("standard"), e.body, { ...h, "webhook-signature": `${other["webhook-signature"]}${sep}${h["webhook-signature"]}` }));
  }
});

Deno.test("standard: duplicate and concurrent duplicate deliveries of one webhook-id", async () => {
  const e = standardEvent();
  const h = standardHeaders(e.body, secrets.STANDARD_WEBHOOK_SECRET);
  const results = await Promise.all(Array.from({ length: 8 }, () => post(url("standard"), e.body, h)));
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(results.filter((r) => r.body.duplicate === false).length, 1, "handled once");
  ok(await post(url("standard"), e.body, h), true);
});
