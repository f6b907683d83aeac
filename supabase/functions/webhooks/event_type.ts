// The event type of a verified delivery, for dispatch in handlers.ts.
// Stripe and Standard Webhooks: the body's `type` (signed). GitHub and
// Shopify: the `X-GitHub-Event` / `X-Shopify-Topic` header (NOT signed).

/** The event type, or null when the provider sent none (or not a short string). */
export function eventType(provider: string, headers: Headers, body: unknown): string | null {
  let t: unknown = null;
  if (provider === "github") t = headers.get("x-github-event");
  else if (provider === "shopify") t = headers.get("x-shopify-topic");
  else if (body !== null && typeof body === "object" && !Array.isArray(body)) t = (body as Record<string, unknown>).type;
  return typeof t === "string" && t.length > 0 && t.length <= 200 ? t : null;
}
