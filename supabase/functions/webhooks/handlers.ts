// The per-provider webhook handlers: the one place a team adds business logic.
//
// A handler runs only for a verified delivery, at most once per delivery (see
// _shared/webhooks/process_webhook_once.ts): `tx` is the transaction that also records
// the delivery in webhook_events, so writes made through `tx` commit exactly
// once together with it; throwing rolls everything back, the function answers
// 500 and the provider retries later. Whatever a handler returns is sent back
// as `result` (keep it small; providers ignore it).
//
// Trust: Stripe and Standard Webhooks sign the event type (`type` comes from
// the body). GitHub's `X-GitHub-Event` and Shopify's `X-Shopify-Topic` are
// unsigned headers: route on them, but check the body's shape before acting.
import type { WebhookHandler } from "../_shared/webhooks/process_webhook_once.ts";

/** The providers this function serves (one route each in policy.json). */
export const PROVIDERS = ["stripe", "shopify", "github", "standard"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const handlers: Record<Provider, WebhookHandler> = {
  stripe: (event) => {
    switch (event.type) {
      // case "checkout.session.completed": return fulfil(event.body, tx);
      default:
        return { type: event.type, handled: false };
    }
  },
  shopify: (event) => ({ type: event.type, handled: false }),
  github: (event) => {
    switch (event.type) {
      case "ping":
        return { type: "ping", handled: true };
      default:
        return { type: event.type, handled: false };
    }
  },
  standard: (event) => ({ type: event.type, handled: false }),
};
