-- pgTAP: recipe creator SaaS (examples/creator-saas). Creators provision and
-- see only their own row and posts; plan and subscription columns are the
-- service's; the Stripe event log is written once per event id by
-- private.record_stripe_event (service only), which applies subscription
-- events in event order; writes are audited with the client IP.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;
-- Helpers eg_tests.try / outcome: 00000_test_helpers.test.sql (runs first).

select plan(39);

-- Two creators and a user who has not called yet (rolled back with everything else).
insert into auth.users (id, aud, role, email) values
  ('c0000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'ann@creators.test'),
  ('c0000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated', 'bob@creators.test'),
  ('c0000000-0000-4000-8000-000000000003', 'authenticated', 'authenticated', 'cat@creators.test');

-- Runs p_sql as the user p_user (authenticated) with a request context, always
-- undone: 'allow' when a row was touched, 'deny' on 0 rows or 42501, else the SQLSTATE.
create function eg_tests.as_creator(p_user uuid, p_sql text) returns text
language plpgsql as $$
declare
  v_rows bigint;
  v_result text;
begin
  begin
    perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
    set local role authenticated;
    execute p_sql;
    get diagnostics v_rows = row_count;
    v_result := case when v_rows > 0 then 'allow' else 'deny' end;
    raise exception 'eg_tests.undo';
  exception when others then
    if v_result is null then
      v_result := case when sqlstate = '42501' then 'deny' else 'error:' || sqlstate end;
    end if;
  end;
  return v_result;
end;
$$;

-- The schema: RLS on, an index per policy column, private helpers with an empty search_path.
select ok((select bool_and(relrowsecurity) from pg_class
           where oid in ('public.creators'::regclass, 'public.posts'::regclass, 'public.creator_billing_events'::regclass)),
  'RLS is on for creators, posts and creator_billing_events');
select has_index('public', 'posts', 'posts_creator_id_idx', 'posts.creator_id is indexed');
select has_index('public', 'creator_billing_events', 'creator_billing_events_creator_id_idx', 'creator_billing_events.creator_id is indexed');
select is((select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'private' and p.proname in ('record_stripe_event', 'creator_plan_for')
             and p.proconfig @> array['search_path=""']),
  2, 'the private helpers run with search_path = ''''');

-- Provisioning: a creator creates their own row (what the function's first call does), once.
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000003',
  $$insert into public.creators (id) values (auth.uid()) on conflict (id) do nothing$$), 'allow', 'a user creates their own creator row');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000003',
  $$insert into public.creators (id) values ('c0000000-0000-4000-8000-000000000001')$$), 'deny', 'not someone else''s');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000003',
  $$insert into public.creators (id, plan) values (auth.uid(), 'pro')$$), 'deny', 'nor with a plan of their choosing (column grants)');
select is(eg_tests.outcome('anon', $$insert into public.creators (id) values ('c0000000-0000-4000-8000-000000000003')$$),
  'deny', 'anon creates nothing');

-- Ann and Bob exist, as their first calls left them.
select set_config('request.jwt.claims', '{"sub": "c0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
select set_config('edgeguard.client_ip', '203.0.113.7', true);
select set_config('edgeguard.request_id', 'req-creator-saas-pgtap', true);
set local role authenticated;
insert into public.creators (id, display_name) values (auth.uid(), 'ann') on conflict (id) do nothing;
insert into public.creators (id, display_name) values (auth.uid(), 'again') on conflict (id) do nothing;
insert into public.posts (creator_id, title) values (auth.uid(), 'ann-1'), (auth.uid(), 'ann-2');
reset role;
select set_config('request.jwt.claims', '{"sub": "c0000000-0000-4000-8000-000000000002", "role": "authenticated"}', true);
set local role authenticated;
insert into public.creators (id, display_name) values (auth.uid(), 'bob') on conflict (id) do nothing;
insert into public.posts (creator_id, title) values (auth.uid(), 'bob-1');
reset role;
select set_config('edgeguard.client_ip', '', true);

select is((select display_name from public.creators where id = 'c0000000-0000-4000-8000-000000000001'), 'ann',
  'a second provisioning changes nothing (on conflict do nothing)');
select is((select count(*)::int from public.audit_logs where table_name = 'creators' and operation = 'INSERT'
           and actor_id = 'c0000000-0000-4000-8000-000000000001'), 1, 'the creator row''s insert is audited once, with the creator as actor');
select is((select client_ip from public.audit_logs where table_name = 'posts' and operation = 'INSERT'
           and new_record ->> 'title' = 'ann-1'), '203.0.113.7'::inet, 'a post''s audit row carries the client IP');
select is((select request_id from public.audit_logs where table_name = 'posts' and operation = 'INSERT'
           and new_record ->> 'title' = 'ann-1'), 'req-creator-saas-pgtap', 'and the request id');

-- Reading and writing: own rows only.
create function eg_tests.titles(p_user uuid) returns text language plpgsql as $$
declare v text;
begin
  perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
  set local role authenticated;
  select coalesce(string_agg(title, ',' order by title), '') into v from public.posts;
  reset role;
  return v;
end;
$$;
select is(eg_tests.titles('c0000000-0000-4000-8000-000000000001'), 'ann-1,ann-2', 'a creator sees their own posts');
select is(eg_tests.titles('c0000000-0000-4000-8000-000000000002'), 'bob-1', 'another creator sees only theirs');
select is(eg_tests.titles('c0000000-0000-4000-8000-000000000003'), '', 'a creator without posts sees none');
select is(eg_tests.outcome('anon', $$select 1 from public.posts$$), 'deny', 'anon reads no post');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000002', $$select 1 from public.creators where id = 'c0000000-0000-4000-8000-000000000001'$$),
  'deny', 'a creator does not see another creator''s row');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000002',
  $$insert into public.posts (creator_id, title) values ('c0000000-0000-4000-8000-000000000001', 'forged')$$), 'deny', 'nor posts in their name');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000002', $$update public.posts set title = 'x' where title = 'ann-1'$$),
  'deny', 'nor edits their posts');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000002', $$delete from public.posts where title = 'ann-1'$$),
  'deny', 'nor deletes them');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000001', $$delete from public.posts where title = 'ann-1'$$),
  'allow', 'the creator deletes their own post');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000001', $$update public.creators set display_name = 'Ann' where id = auth.uid()$$),
  'allow', 'a creator renames themself');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000001', $$update public.creators set plan = 'pro' where id = auth.uid()$$),
  'deny', 'but does not upgrade their own plan');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000001', $$update public.creators set subscription_status = 'active' where id = auth.uid()$$),
  'deny', 'nor set their subscription');

-- The Stripe event log: service only, once per event id, in event order.
select is(eg_tests.try('admin', $$select * from private.record_stripe_event('evt_1', 'customer.subscription.created', now(), '{}')$$),
  'error:42501', 'a user cannot record Stripe events');
select is(eg_tests.as_creator('c0000000-0000-4000-8000-000000000001',
  $$insert into public.creator_billing_events (event_id, event_type, stripe_created, applied) values ('evt_forged', 'x', now(), true)$$),
  'deny', 'nor write the log directly');

set local role service_role;
select is((select row(duplicate, applied)::text from private.record_stripe_event('evt_ann1', 'customer.subscription.created',
           '2026-12-01 10:00+00', '{"id": "sub_ann", "customer": "cus_ann", "status": "active", "metadata": {"creator_id": "c0000000-0000-4000-8000-000000000001"}}')),
  '(f,t)', 'a new subscription event is logged and applied');
select is((select row(duplicate, applied)::text from private.record_stripe_event('evt_ann1', 'customer.subscription.created',
           '2026-12-01 10:00+00', '{"id": "sub_ann", "customer": "cus_ann", "status": "active", "metadata": {"creator_id": "c0000000-0000-4000-8000-000000000001"}}')),
  '(t,f)', 'the same event id again is a duplicate');
select is((select row(duplicate, applied)::text from private.record_stripe_event('evt_ann3', 'customer.subscription.updated',
           '2026-12-01 12:00+00', '{"id": "sub_ann", "customer": "cus_ann", "status": "past_due", "metadata": {"creator_id": "c0000000-0000-4000-8000-000000000001"}}')),
  '(f,t)', 'a later update applies');
select is((select row(duplicate, applied)::text from private.record_stripe_event('evt_ann2', 'customer.subscription.updated',
           '2026-12-01 11:00+00', '{"id": "sub_ann", "customer": "cus_ann", "status": "canceled", "metadata": {"creator_id": "c0000000-0000-4000-8000-000000000001"}}')),
  '(f,f)', 'an older event arriving late is logged, not applied');
select is((select row(duplicate, applied)::text from private.record_stripe_event('evt_nobody', 'customer.subscription.created',
           now(), '{"id": "sub_x", "status": "active", "metadata": {"creator_id": "not-a-uuid"}}')),
  '(f,f)', 'an event naming no known creator is logged, not applied');
reset role;
select is((select row(plan, subscription_status, stripe_customer_id, stripe_subscription_id)::text
           from public.creators where id = 'c0000000-0000-4000-8000-000000000001'),
  '(pro,past_due,cus_ann,sub_ann)', 'the creator''s state is the newest event''s');
select is((select count(*)::int from public.creator_billing_events where event_id in ('evt_ann1', 'evt_ann2', 'evt_ann3', 'evt_nobody')),
  4, 'every distinct event is logged once');
set local role service_role;
select is((select applied from private.record_stripe_event('evt_ann4', 'customer.subscription.deleted', '2026-12-01 13:00+00',
           '{"id": "sub_ann", "customer": "cus_ann", "status": "active", "metadata": {"creator_id": "c0000000-0000-4000-8000-000000000001"}}')),
  true, 'a deleted subscription applies');
reset role;
select is((select row(plan, subscription_status)::text from public.creators where id = 'c0000000-0000-4000-8000-000000000001'),
  '(free,canceled)', 'and puts the creator back on free');
select is((select count(*)::int from public.audit_logs where table_name = 'creators' and operation = 'UPDATE'
           and new_record ->> 'id' = 'c0000000-0000-4000-8000-000000000001' and new_record ->> 'plan' is not null
           and old_record ->> 'subscription_status' is distinct from new_record ->> 'subscription_status'),
  3, 'each applied state change is audited');

create function eg_tests.events(p_user uuid) returns text language plpgsql as $$
declare v text;
begin
  perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
  set local role authenticated;
  select coalesce(string_agg(event_id, ',' order by event_id), '') into v from public.creator_billing_events
   where event_id in ('evt_ann1', 'evt_ann2', 'evt_ann3', 'evt_ann4', 'evt_nobody');
  reset role;
  return v;
end;
$$;
select is(eg_tests.events('c0000000-0000-4000-8000-000000000001'), 'evt_ann1,evt_ann2,evt_ann3,evt_ann4', 'a creator reads their own billing events');
select is(eg_tests.events('c0000000-0000-4000-8000-000000000002'), '', 'and nobody else''s');
select is(private.creator_plan_for('trialing'), 'pro', 'trialing is pro');

select * from finish();
rollback;
