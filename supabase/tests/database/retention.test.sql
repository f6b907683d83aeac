-- pgTAP: retention (docs/database.md, "Retention"; migration
-- 20261202000700_retention.sql). Per table: old rows removed, recent ones
-- kept; webhook de-duplication still refuses a replayed GitHub or Shopify
-- delivery after its body was dropped; audit personal fields redacted with
-- the chains still verifying; disabled policies do nothing; clients cannot
-- run it.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(37);

select has_table('private', 'retention_policies', 'private.retention_policies exists');
select is((select array_agg(table_name order by table_name) from private.retention_policies where enabled),
  array['private.auth_hook_deliveries', 'private.password_failures', 'private.rate_limits',
        'public.audit_logs', 'public.security_events', 'public.webhook_events'],
  'a default policy for each table, enabled');
select is(eg_tests.try('admin', 'select * from private.apply_retention()'), 'error:42501',
  'a tenant admin cannot run retention');
select is(eg_tests.try('member', 'select * from private.retention_policies'), 'error:42501',
  'a client cannot read the policies');

-- Fixtures: one old and one recent row per table (now() is the transaction's
-- start; rows written in this transaction are younger than it).
\o /dev/null
insert into public.security_events (occurred_at, event_type, severity, details) values
  (now() - interval '91 days', 'test.retention_old', 'notice', '{}'),
  (now() - interval '1 day', 'test.retention_recent', 'notice', '{}');
create temp table t_hash as
  select md5(random()::text) || md5(random()::text) as gh, md5(random()::text) || md5(random()::text) as sh;
insert into public.webhook_events (provider, event_id, status, payload_sha256, payload, received_at)
select 'github', 'gh-old-' || gh, 'processed', gh, '{"zen": "old"}'::jsonb, now() - interval '8 days' from t_hash
union all
select 'shopify', 'sh-old-' || sh, 'processed', sh, '{"order": "old"}'::jsonb, now() - interval '8 days' from t_hash
union all
select 'stripe', 'evt_recent_' || left(gh, 16), 'processed', gh, '{"id": "recent"}'::jsonb, now() - interval '1 day' from t_hash;
insert into private.rate_limits (key, tat, lim, window_s, admitted, expires_at) values
  ('test:expired-long-ago', 0, 1, 60, true, now() - interval '2 hours'),
  ('test:expired-recently', 0, 1, 60, true, now() - interval '10 minutes'),
  ('test:live', 0, 1, 60, true, now() + interval '1 minute');
delete from private.password_failures;
insert into private.password_failures (user_id, failed_count, first_failed_at, last_failed_at, locked_until) values
  ('aaaaaaaa-0000-4000-8000-000000000002', 2, now() - interval '3 days', now() - interval '2 days', null),
  ('aaaaaaaa-0000-4000-8000-000000000003', 5, now() - interval '3 days', now() - interval '2 days', now() + interval '1 hour'),
  ('aaaaaaaa-0000-4000-8000-000000000005', 1, now() - interval '1 hour', now() - interval '1 hour', null);
insert into private.auth_hook_deliveries (webhook_id, hook, status, answer, created_at) values
  ('msg_retention_old', 'custom-access-token', 200, '{}', now() - interval '2 days'),
  ('msg_retention_recent', 'custom-access-token', 200, '{}', now() - interval '30 minutes');

-- Audit: every row written before this transaction becomes "old" (keep 0);
-- a row written now (format 2, with IP and user agent) is recent.
update private.retention_policies set keep = interval '0' where table_name = 'public.audit_logs';
select set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('member') a), true);
select set_config('edgeguard.client_ip', '203.0.113.7', true);
select set_config('edgeguard.user_agent', 'retention-test/1.0', true);
set local role authenticated;
update public.profiles set display_name = 'Recent Edit' where id = 'aaaaaaaa-0000-4000-8000-000000000004';
reset role;
select set_config('request.jwt.claims', '', true);
create temp table t_before as
  select (select count(*) from public.audit_logs where row_format = 2 and redacted_at is null
            and occurred_at < now()) as old_format2,
         (select count(*) from public.audit_logs where row_format = 1) as format1,
         (select string_agg(hash, ',' order by id) from public.audit_logs) as hashes,
         (select max(id) from public.audit_logs) as max_id;
create temp table t_run as select * from private.apply_retention(now());
\o

select ok((select old_format2 from t_before) > 0, 'the seed wrote format-2 audit rows before this transaction');
select is((select array_agg(table_name || ':' || action order by table_name) from t_run),
  array['private.auth_hook_deliveries:deleted', 'private.password_failures:deleted', 'private.rate_limits:deleted',
        'public.audit_logs:redacted', 'public.security_events:deleted', 'public.webhook_events:payload_dropped'],
  'apply_retention reports one row per table and what it did');

-- security_events
select is((select count(*)::int from public.security_events where event_type = 'test.retention_old'), 0,
  'security_events: an event older than 90 days is deleted');
select is((select count(*)::int from public.security_events where event_type = 'test.retention_recent'), 1,
  'security_events: a recent event is kept');
select ok((select removed from t_run where table_name = 'public.security_events') >= 1,
  'security_events: the deletion is counted');

-- webhook_events
select is((select count(*)::int from public.webhook_events w, t_hash
           where w.event_id in ('gh-old-' || gh, 'sh-old-' || sh) and w.payload is null and w.payload_sha256 is not null), 2,
  'webhook_events: old bodies dropped, their hashes kept');
select is((select payload ->> 'id' from public.webhook_events w, t_hash where w.event_id = 'evt_recent_' || left(gh, 16)),
  'recent', 'webhook_events: a recent body is kept');
select is((select removed from t_run where table_name = 'public.webhook_events'), 2::bigint,
  'webhook_events: two bodies counted');

-- de-duplication after the body is gone, exactly as the webhooks function claims a delivery
create function pg_temp.claim(p_provider text, p_event_id text, p_hash text) returns int
language sql as $$
  with ins as (
    insert into public.webhook_events (provider, event_id, status, payload_sha256, processed_at)
    values (p_provider, p_event_id, 'processed', p_hash, now())
    on conflict do nothing
    returning id
  ) select count(*)::int from ins;
$$;
select is(pg_temp.claim('github', 'gh-old-' || (select gh from t_hash), (select gh from t_hash)), 0,
  'github: the same delivery again is still a duplicate');
select is(pg_temp.claim('github', 'gh-replay-' || (select gh from t_hash), (select gh from t_hash)), 0,
  'github: the purged body under a fresh delivery id is still a duplicate');
select is(pg_temp.claim('shopify', 'sh-replay-' || (select sh from t_hash), (select sh from t_hash)), 0,
  'shopify: the purged body under a fresh webhook id is still a duplicate');

-- rate limits
select is((select array_agg(key order by key) from private.rate_limits where key like 'test:%'),
  array['test:expired-recently', 'test:live'], 'rate_limits: state expired over an hour ago deleted, the rest kept');

-- password failures
select is((select array_agg(user_id::text order by user_id) from private.password_failures),
  array['aaaaaaaa-0000-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000005'],
  'password_failures: an old count is deleted; a locked user and a recent count are kept');

-- auth hook deliveries
select is((select array_agg(webhook_id order by webhook_id) from private.auth_hook_deliveries
           where webhook_id like 'msg_retention_%'),
  array['msg_retention_recent'], 'auth_hook_deliveries: an old answer deleted, a recent one kept');

-- audit personal fields
select is((select count(*) from public.audit_logs where row_format = 2 and redacted_at is null and occurred_at < now()),
  0::bigint, 'audit: no format-2 row older than the cutoff keeps its personal fields');
select is((select removed from t_run where table_name = 'public.audit_logs'), (select old_format2 from t_before),
  'audit: every old format-2 row is counted as redacted');
select is((select count(*) from public.audit_logs where redacted_at is not null and occurred_at < now()
             and (old_record is not null or new_record is not null or actor_claims is not null
                  or client_ip is not null or user_agent is not null or personal_salt is not null)),
  0::bigint, 'audit: redacted rows hold no personal field or salt');
select is((select concat_ws('|', host(client_ip), user_agent, new_record ->> 'display_name')
           from public.audit_logs where table_name = 'profiles' and id <= (select max_id from t_before)
             and occurred_at >= now() order by id desc limit 1),
  '203.0.113.7|retention-test/1.0|Recent Edit', 'audit: a recent row keeps its personal fields');
select is((select count(*) from public.audit_logs where row_format = 1 and redacted_at is null),
  (select format1 from t_before), 'audit: format-1 rows are left as they are');
select is((select string_agg(hash, ',' order by id) from public.audit_logs where id <= (select max_id from t_before)),
  (select hashes from t_before), 'audit: no hash changed');
select is((select format('%s|%s', valid::text, coalesce(reason, '-'))
           from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')),
  'true|-', 'audit: the chain of tenant A still verifies');
select is((select format('%s|%s', valid::text, coalesce(reason, '-')) from public.verify_audit_chain(null)),
  'true|-', 'audit: the global chain still verifies');
select is((select (new_record ->> 'rows')::bigint from public.audit_logs
           where table_name = 'retention.redacted' and id > (select max_id from t_before)),
  (select old_format2 from t_before), 'audit: one retention.redacted event records the redaction');
select is((select count(*) from public.audit_logs where table_name = 'retention.redacted'
             and id > (select max_id from t_before) and (actor_claims - 'role') <> '{}'::jsonb),
  0::bigint, 'audit: the event carries no personal field');
select is((select r.removed from private.apply_retention(now()) r where r.table_name = 'public.audit_logs'),
  0::bigint, 'audit: a second run redacts nothing');
select is((select count(*)::int from public.audit_logs where table_name = 'retention.redacted'
             and id > (select max_id from t_before)), 1, 'audit: and records no second event');
select is((select format('%s|%s', valid::text, coalesce(reason, '-')) from public.verify_audit_chain(null)),
  'true|-', 'audit: the global chain verifies after the retention event');

-- floors and switches
insert into private.auth_hook_deliveries (webhook_id, hook, status, answer, created_at)
values ('msg_retention_floor', 'custom-access-token', 200, '{}', now() - interval '30 minutes');
update private.retention_policies set keep = interval '0' where table_name = 'private.auth_hook_deliveries';
select is((select r.removed from private.apply_retention(now()) r
           where r.table_name = 'private.auth_hook_deliveries'), 0::bigint,
  'auth_hook_deliveries: answers younger than an hour are kept whatever the policy says');
insert into public.security_events (occurred_at, event_type, severity, details)
values (now() - interval '1 day', 'test.retention_floor', 'notice', '{}');
update private.retention_policies set keep = interval '0' where table_name = 'public.security_events';
select lives_ok($$select private.apply_retention(now())$$, 'retention runs with a zero interval');
select is((select count(*)::int from public.security_events where event_type = 'test.retention_floor'), 1,
  'security_events: events younger than two days are kept (the metrics rollup reads them)');
update private.retention_policies set enabled = false where table_name = 'private.rate_limits';
select is((select count(*)::int from private.apply_retention(now() + interval '1 day') r
           where r.table_name = 'private.rate_limits'), 0, 'a disabled policy is not applied');
select is((select count(*)::int from private.rate_limits where key like 'test:%'), 2,
  'and its rows stay');
select throws_ok($$select private.apply_retention(null)$$, '22023', null, 'p_now is required');

select * from finish();
rollback;
