-- edgeguard: replay defence for webhook providers whose delivery id is not
-- signed (GitHub's X-GitHub-Delivery, Shopify's X-Shopify-Webhook-Id travel in
-- plain headers, and neither signs a timestamp). Someone holding a captured
-- delivery could resend the same signed bytes under a fresh id; keying those
-- providers' rows also by the SHA-256 of the raw body makes such a replay a
-- duplicate. The webhooks function inserts with `on conflict do nothing`
-- (no target), which covers this index as well as (provider, event_id).
-- Keep these rows as long as replays must be refused (do not purge them early).

create unique index webhook_events_unsigned_payload_key
  on public.webhook_events (provider, payload_sha256)
  where provider in ('github', 'shopify');

comment on index public.webhook_events_unsigned_payload_key is
  'edgeguard: one delivery per body for providers whose event id is unsigned (GitHub, Shopify)';
