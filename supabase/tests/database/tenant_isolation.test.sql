-- pgTAP: tenant isolation beyond the matrix: own rows, privilege escalation,
-- moving rows across tenants, callers without identity; webhook de-duplication;
-- security events and hourly metrics.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).
select plan(27);

-- own profile
select is(eg_tests.outcome('member', $$update public.profiles set display_name = 'Me' where id = 'aaaaaaaa-0000-4000-8000-000000000004'$$),
  'allow', 'a user updates their own profile');
delete from public.profiles where id = 'aaaaaaaa-0000-4000-8000-000000000004';
select is(eg_tests.outcome('member', $$insert into public.profiles (id, display_name) values ('aaaaaaaa-0000-4000-8000-000000000004', 'Me')$$),
  'allow', 'a user creates their own profile (the `me` function on first call)');
select is(eg_tests.outcome('member', $$delete from public.profiles where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$),
  'deny', 'a user cannot delete a profile');
select is(eg_tests.try('other', $$select id from public.profiles$$), 'ok:5', 'tenant B''s admin sees exactly tenant B''s 5 profiles');
select is(eg_tests.try('outsider', $$select id from public.profiles$$), 'ok:1', 'a user without a tenant sees only their own profile');
select is(eg_tests.try('member', $$update public.profiles set id = 'aaaaaaaa-0000-4000-8000-000000000003' where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$),
  'error:42501', 'a profile id cannot be changed');

-- roles: no self-escalation, no cross-tenant moves
select is(eg_tests.outcome('member', $$update public.tenant_members set role = 'admin' where user_id = 'aaaaaaaa-0000-4000-8000-000000000004'$$),
  'deny', 'a member cannot promote themselves');
select is(eg_tests.outcome('member', $$insert into public.tenant_members (tenant_id, user_id, role) values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest')$$),
  'deny', 'a member cannot add members');
select is(eg_tests.outcome('admin', $$update public.tenant_members set role = 'guest' where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000001'$$),
  'deny', 'an admin cannot change their own membership (no accidental lock-out)');
select is(eg_tests.outcome('admin', $$delete from public.tenant_members where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000001'$$),
  'deny', 'an admin cannot remove their own membership');
select is(eg_tests.try('admin', $$update public.tenant_members set tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000' where user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$),
  'error:42501', 'an admin cannot move a member to another tenant');
select is(eg_tests.outcome('admin', $$insert into public.tenant_members (tenant_id, user_id, role) values ('bbbbbbbb-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000001', 'admin')$$),
  'deny', 'an admin cannot make themselves a member of another tenant');
select is(eg_tests.try('admin', $$update public.tenant_members set role = 'superuser' where user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$),
  'error:23503', 'a role must exist on the ladder');
select is(eg_tests.outcome('other', $$update public.tenant_members set role = 'guest' where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'deny', 'tenant B''s admin cannot change tenant A''s members');
select throws_ok($$select eg_tests.try('moderator_like', 'select 1')$$, 'P0001', null, 'the helper refuses unknown actors (sanity)');

-- callers without a usable identity
select is(eg_tests.try('nobody', $$select id from public.tenants$$), 'ok:0', 'authenticated without sub sees no tenant');
select is(eg_tests.try('nobody', $$select user_id from public.tenant_members$$), 'ok:0', 'authenticated without sub sees no member');
select is(eg_tests.try('outsider', $$select id from public.tenants$$), 'ok:0', 'a user without membership sees no tenant');

-- webhook de-duplication
insert into public.webhook_events (provider, event_id, event_type) values ('stripe', 'evt_dup_1', 'invoice.paid');
with x as (insert into public.webhook_events (provider, event_id) values ('stripe', 'evt_dup_1')
           on conflict (provider, event_id) do nothing returning id)
select is((select count(*)::int from x), 0, 'a replayed delivery inserts nothing (duplicate)');
with x as (insert into public.webhook_events (provider, event_id) values ('github', 'evt_dup_1')
           on conflict (provider, event_id) do nothing returning id)
select is((select count(*)::int from x), 1, 'the same id from another provider is a different event');
select throws_ok($$insert into public.webhook_events (provider, event_id) values ('paypal', 'x')$$, '23514', null,
  'unknown providers are refused');

-- security events and hourly metrics
insert into public.security_events (occurred_at, event_type, severity, tenant_id) values
  (date_trunc('hour', now()) - interval '2 hours' + interval '5 minutes', 'auth.invalid_jwt', 'warning', 'aaaaaaaa-0000-4000-8000-000000000000'),
  (date_trunc('hour', now()) - interval '2 hours' + interval '9 minutes', 'auth.invalid_jwt', 'warning', 'aaaaaaaa-0000-4000-8000-000000000000'),
  (date_trunc('hour', now()) - interval '1 hours', 'rate_limited', 'warning', 'aaaaaaaa-0000-4000-8000-000000000000'),
  (date_trunc('hour', now()) - interval '1 hours', 'rate_limited', 'warning', 'bbbbbbbb-0000-4000-8000-000000000000');
select is(eg_tests.try('admin', $$select * from public.security_metrics_hourly('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'ok:2', 'tenant A''s admin gets two hourly buckets');
select is((select events::int from public.security_metrics_hourly('aaaaaaaa-0000-4000-8000-000000000000')
           where event_type = 'auth.invalid_jwt'), 2, 'two events counted in one hour');
select is(eg_tests.try('other', $$select * from public.security_metrics_hourly('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'ok:0', 'another tenant''s admin sees no metrics of tenant A');
select is(eg_tests.try('member', $$select * from public.security_metrics_hourly('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'ok:0', 'a member sees no metrics');
select throws_ok($$insert into public.security_events (event_type, details) values ('x', '[1]')$$, '23514', null,
  'details must be a JSON object');
select throws_ok($$insert into public.security_events (event_type) values ('Bad Type!')$$, '23514', null,
  'event types are lower-case identifiers');

select * from finish();
rollback;
