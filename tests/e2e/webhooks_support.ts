// Signing helpers for the webhook and auth-hook e2e tests: every signature is
// made by the provider's own SDK from npm (stripe, standardwebhooks, svix) or
// by node:crypto (Shopify, GitHub), never by edgeguard.
import postgres from "npm:postgres@3.4.9";
import { Webhook as StandardWebhook } from "npm:standardwebhooks@1.1.1";
import { Webhook as SvixWebhook } from "npm:svix@1.99.1";
import { dbUrl, devKeys } from "./stack.ts";

// stripe's and node:crypto's type declarations need @types/node, which the
// tree does not install: load them untyped (computed specifiers are not type-checked).
const nodeCrypto = "node:crypto";
const { createHmac, randomBytes } = (await import(nodeCrypto)) as {
  createHmac(alg: string, key: string): { update(b: Uint8Array | string): { digest(enc: "hex" | "base64"): string } };
  randomBytes(n: number): { toString(enc: "hex" | "base64"): string };
};
const stripeSpecifier = "npm:stripe@23.1.0";
const { default: Stripe } = (await import(stripeSpecifier)) as {
  default: new (key: string) => {
    webhooks: {
      generateTestHeaderStringAsync(o: { payload: string; secret: string; timestamp?: number }): Promise<string>;
    };
  };
};
const stripe = new Stripe("sk_test_edgeguard");

export const now = () => Math.floor(Date.now() / 1000);

/** A fresh id for this run (ids must not collide across runs on one database). */
export const uid = (prefix: string) => `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;

/** A fresh random secret in each provider's form. */
export const freshSecret = {
  stripe: () => `whsec_${randomBytes(24).toString("hex")}`,
  raw: () => randomBytes(32).toString("hex"),
  standard: () => `whsec_${randomBytes(32).toString("base64")}`,
};

/** Stripe-Signature made by stripe-node (`t=…,v1=…`). */
export function stripeHeader(payload: string, secret: string, timestamp?: number): Promise<string> {
  return stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp });
}

/** X-Hub-Signature-256 as GitHub computes it. */
export function githubSignature(body: string | Uint8Array, secret: string): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

/** X-Shopify-Hmac-Sha256 as Shopify computes it. */
export function shopifySignature(body: string | Uint8Array, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

/** `whsec_<base64>` from a Standard Webhooks env value (`v1,whsec_…` or `whsec_…`). */
export function standardKey(envValue: string): string {
  return envValue.replace(/^v1,/, "");
}

/** Standard Webhooks headers made by the standardwebhooks library. */
export function standardHeaders(
  body: string,
  secret: string,
  options: { id?: string; timestamp?: number } = {},
): Record<string, string> {
  const id = options.id ?? uid("msg_");
  const ts = options.timestamp ?? now();
  const signature = new StandardWebhook(standardKey(secret)).sign(id, new Date(ts * 1000), body);
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature };
}

/** Svix-branded headers made by the svix library. */
export function svixHeaders(body: string, secret: string, options: { id?: string; timestamp?: number } = {}) {
  const id = options.id ?? uid("msg_");
  const ts = options.timestamp ?? now();
  const signature = new SvixWebhook(standardKey(secret)).sign(id, new Date(ts * 1000), body);
  return { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": signature };
}

/** The stack's webhook secrets (dev keys). */
export async function stackSecrets(): Promise<Record<string, string>> {
  return (await devKeys()).env;
}

export type Db = ReturnType<typeof postgres>;

/** Runs `fn` with a direct connection to the stack's database (superuser), closed afterwards. */
export async function withDb<T>(fn: (sql: Db) => Promise<T>): Promise<T> {
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** The security_events rows of `requestId`, waiting up to 5 s for the background write. */
export async function securityEvents(sql: Db, requestId: string): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await sql`select event_type, severity, request_id, details from public.security_events
                           where request_id = ${requestId}`;
    if (rows.length > 0 || Date.now() > deadline) return [...rows];
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The webhook_events rows of `provider` whose event id or body hash is given. */
export async function webhookRows(sql: Db, provider: string, eventId: string): Promise<Record<string, unknown>[]> {
  return [...await sql`select provider, event_id, event_type, status, payload_sha256 from public.webhook_events
                       where provider = ${provider} and event_id = ${eventId}`];
}

/** POSTs `body` with `headers` to `url`; returns status and parsed JSON body (always consumed). */
export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; requestId: string | null }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body as BodyInit,
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, requestId: res.headers.get("x-request-id") };
}
