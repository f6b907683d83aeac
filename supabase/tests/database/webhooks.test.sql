-- pgTAP: webhook de-duplication keys (public.webhook_events and
-- supabase/migrations/20261123091000_webhooks.sql), exactly as the webhooks
-- function inserts: `on conflict do nothing returning id`.
begin;
select plan(9);

select has_index('public', 'webhook_events', 'webhook_events_unsigned_payload_key',
  'the unsigned-provider payload index exists');
select ok((select indisunique from pg_index where indexrelid = 'public.webhook_events_unsigned_payload_key'::regclass),
  'it is unique');

create temp table t_hash as select md5(random()::text) || md5(random()::text) as h;
create temp table t_claims (label text, claimed int);

create function pg_temp.claim(p_provider text, p_event_id text, p_hash text) returns int
language sql as $$
  with ins as (
    insert into public.webhook_events (provider, event_id, status, payload_sha256, processed_at)
    values (p_provider, p_event_id, 'processed', p_hash, now())
    on conflict do nothing
    returning id
  ) select count(*)::int from ins;
$$;

select is(pg_temp.claim('github', 'gh-' || (select h from t_hash), (select h from t_hash)), 1,
  'github: a first delivery is claimed');
select is(pg_temp.claim('github', 'gh-' || (select h from t_hash), (select h from t_hash)), 0,
  'github: the same delivery id again is a duplicate');
select is(pg_temp.claim('github', 'gh-other-' || (select h from t_hash), (select h from t_hash)), 0,
  'github: the same body under a fresh (unsigned) delivery id is a duplicate');
select is(pg_temp.claim('shopify', 'sh-' || (select h from t_hash), (select h from t_hash)), 1,
  'shopify: the same body at another provider is its own delivery');
select is(pg_temp.claim('shopify', 'sh-2-' || (select h from t_hash), (select h from t_hash)), 0,
  'shopify: the same body under a fresh id is a duplicate');
select is(pg_temp.claim('stripe', 'evt_a_' || left((select h from t_hash), 20), (select h from t_hash)), 1,
  'stripe: a signed event id is claimed');
select is(pg_temp.claim('stripe', 'evt_b_' || left((select h from t_hash), 20), (select h from t_hash)), 1,
  'stripe: the body hash is not a key when the id is signed');

select * from finish();
rollback;
