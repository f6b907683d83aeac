// Runs a verified webhook's handler at most once per delivery, atomically with
// the record of that delivery in public.webhook_events.
//
// One transaction: `insert ... on conflict do nothing returning` claims the
// delivery, then the handler runs with the same transaction. A concurrent
// duplicate blocks on the unique index until the first transaction ends:
// after a commit it inserts nothing and is answered as a duplicate; after a
// rollback (the handler failed, the provider will retry) it claims the row and
// runs the handler itself. So the handler's database writes happen exactly
// once, and a failed handler never marks the delivery as done. Side effects
// outside the database (e-mails, API calls) are at-least-once if the handler
// fails after making them.
//
// Keys: one row per delivery, keyed by the provider's event id (unique per
// provider + event id). For providers whose id is NOT covered by the signature
// (GitHub, Shopify) the row also carries the SHA-256 of the raw body, unique
// per provider (migration 20261123091000_webhooks.sql): their delivery id
// travels in an unsigned header, so a captured delivery could be resent under
// a fresh id; the body hash turns that replay into a duplicate too (their
// bodies carry per-event ids and timestamps, so distinct events do not share
// bytes). `on conflict do nothing` without a target covers both keys. A
// delivery without any id is keyed by `sha256:<hex>` of its body.
import type { TransactionSql } from "npm:postgres@3.4.9";
import type { Sql } from "../db/connect_postgres.ts";

/** What a handler receives besides the transaction. */
export interface WebhookEvent {
  /** `stripe`, `shopify`, `github` or `standard`. */
  provider: string;
  /** The provider's event / delivery id (null when it sent none). */
  id: string | null;
  /** Whether the signature covers `id` (Stripe, Standard Webhooks). */
  idSigned: boolean;
  /** Event type: Stripe/Standard body `type` (signed); GitHub `X-GitHub-Event`, Shopify `X-Shopify-Topic` (unsigned headers). */
  type: string | null;
  /** Signed timestamp (Unix seconds) for Stripe and Standard Webhooks. */
  timestamp: number | null;
  /** The verified body, parsed (JSON value, or form fields for GitHub form deliveries). */
  body: unknown;
  /** The verified raw bytes. */
  rawBody: Uint8Array;
  headers: Headers;
  requestId: string;
}

/** A transaction handle (postgres.js). */
// deno-lint-ignore ban-types
export type Tx = TransactionSql<{}>;

/** A per-provider handler: its database writes use `tx` and commit with the de-duplication record. */
export type WebhookHandler = (event: WebhookEvent, tx: Tx) => unknown | Promise<unknown>;

export type Outcome = { duplicate: true } | { duplicate: false; result: unknown };

/** The hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Duplicate extends Error {}

/** Claims the delivery and runs `handler` once, in one transaction. */
export async function processWebhookOnce(sql: Sql, event: WebhookEvent, handler: WebhookHandler): Promise<Outcome> {
  const hash = await sha256Hex(event.rawBody);
  const eventId = event.id ?? `sha256:${hash}`;
  try {
    const result = await sql.begin(async (tx) => {
      // The shared client may relax commit durability (limiter writes); a
      // delivery acknowledged with 200 must survive a crash.
      await tx`set local synchronous_commit = on`;
      const claimed = await tx`
        insert into public.webhook_events (provider, event_id, event_type, status, payload_sha256, processed_at)
        values (${event.provider}, ${eventId}, ${event.type}, 'processed', ${hash}, now())
        on conflict do nothing
        returning id`;
      if (claimed.length === 0) throw new Duplicate();
      return await handler(event, tx);
    });
    return { duplicate: false, result };
  } catch (e) {
    if (e instanceof Duplicate) return { duplicate: true };
    throw e;
  }
}
