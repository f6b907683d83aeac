-- pgTAP: recipe ai-sales-assistant (examples/ai-sales-assistant). The quota
-- charge is all or nothing and never passes the plan's monthly quota; months
-- are calendar months in UTC; only the service may charge; members read their
-- tenant's usage, nobody else's; leads are read by moderators and admins.
-- Seed UUIDs: docs/database.md (tenant A aaaaaaaa-…-000000000000).
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;
-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).

select plan(27);

select has_function('private', 'charge_usage', array['uuid', 'bigint', 'timestamp with time zone'], 'private.charge_usage exists');
select is((select prosecdef from pg_proc where oid = 'private.charge_usage(uuid, bigint, timestamptz)'::regprocedure), true,
  'charge_usage is security definer');
select ok((select proconfig @> array['search_path=""'] from pg_proc where oid = 'private.charge_usage(uuid, bigint, timestamptz)'::regprocedure),
  'charge_usage pins search_path to empty');

-- A plan of 100 units for tenant A (everything below is rolled back).
insert into public.usage_plans (name, monthly_units) values ('pgtap-100', 100);
insert into public.tenant_plans (tenant_id, plan) values ('aaaaaaaa-0000-4000-8000-000000000000', 'pgtap-100');

-- The period.
select is((select (p.period_start, p.reset_at)::text from private.usage_period('2026-12-31 23:30:00-02') p),
  ('2027-01-01 00:00:00+00'::timestamptz, '2027-02-01 00:00:00+00'::timestamptz)::text,
  'usage_period: the calendar month in UTC (23:30 at -02 is already January in UTC)');

-- Charges within one month.
select is((select (c.charged, c.plan, c.quota, c.used, c.remaining)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 60, '2026-12-10 12:00:00+00') c),
  '(t,pgtap-100,100,60,40)', '60 of 100: charged, 40 remain');
select is((select (c.charged, c.used, c.remaining)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 50, '2026-12-11 12:00:00+00') c),
  '(f,60,40)', '50 more than the 40 left: refused whole, nothing charged');
select is((select c.reset_at from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 50, '2026-12-11 12:00:00+00') c),
  '2027-01-01 00:00:00+00'::timestamptz, 'a refusal says when the quota resets');
select is((select (c.charged, c.used, c.remaining)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 40, '2026-12-31 23:59:59+00') c),
  '(t,100,0)', 'exactly the 40 left: charged, 0 remain');
select is((select (c.charged, c.used, c.remaining)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 1, '2026-12-31 23:59:59+00') c),
  '(f,100,0)', 'a spent quota refuses even one unit');
select is((select (c.charged, c.used, c.remaining, c.period_start)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 1, '2027-01-01 00:00:00+00') c),
  (true, 1, 99, '2027-01-01 00:00:00+00'::timestamptz)::text, 'the next month starts from zero');
select is((select used from public.usage_counters
           where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and period_start = '2026-12-01 00:00:00+00'),
  100::bigint, 'the December counter holds exactly the admitted charges');
select is((select (c.charged, c.used)::text
           from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 101, '2027-02-01 00:00:00+00') c),
  '(f,0)', 'more than the whole quota is refused on a fresh month too (no counter row needed)');
select is((select (c.charged, c.plan, c.quota)::text
           from private.charge_usage('bbbbbbbb-0000-4000-8000-000000000000', 5, '2026-12-10 12:00:00+00') c),
  '(t,free,10000)', 'a tenant without a plan is on "free"');
select throws_ok($$select * from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 0)$$, '22023', null,
  'zero units are refused');
select throws_ok($$select * from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', -5)$$, '22023', null,
  'negative units (a refund through the back door) are refused');

-- Who may charge: the service only.
select is(eg_tests.try('service', $$select * from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 1, '2027-03-01')$$),
  'ok:1', 'service_role may charge');
select is(eg_tests.try('admin', $$select * from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 1, '2027-03-01')$$),
  'error:42501', 'a tenant admin may not charge (nor refund) directly');
select is(eg_tests.try('anon', $$select * from private.charge_usage('aaaaaaaa-0000-4000-8000-000000000000', 1, '2027-03-01')$$),
  'error:42501', 'anon may not charge');

-- RLS: counters and plans of one's own tenant only; no client writes.
select is(eg_tests.outcome('member', $$select 1 from public.usage_counters where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'allow', 'a member reads their tenant''s counters');
select is(eg_tests.outcome('other', $$select 1 from public.usage_counters where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'deny', 'an admin of another tenant does not');
select is(eg_tests.outcome('admin', $$update public.usage_counters set used = 0 where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'deny', 'not even the tenant''s admin resets a counter');
select is(eg_tests.outcome('admin', $$update public.tenant_plans set plan = 'enterprise' where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'deny', 'nor upgrades the plan');
select is(eg_tests.outcome('other', $$select 1 from public.tenant_plans where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'deny', 'another tenant''s plan is not visible');

-- usage_status: the caller's view under RLS.
select is(eg_tests.try('member', $$select * from private.usage_status('aaaaaaaa-0000-4000-8000-000000000000', '2026-12-15')$$),
  'ok:1', 'usage_status answers a member');
select is(eg_tests.try('outsider', $$select * from private.usage_status('aaaaaaaa-0000-4000-8000-000000000000', '2026-12-15')$$),
  'ok:0', 'and nothing to a non-member');

-- Leads: moderators and admins of the tenant.
insert into public.sales_leads (tenant_id, email, name) values ('aaaaaaaa-0000-4000-8000-000000000000', 'lead@example.com', 'Lee');
select is(eg_tests.outcome('admin', $$select 1 from public.sales_leads where email = 'lead@example.com'$$),
  'allow', 'a tenant admin reads its leads');
select is(eg_tests.outcome('member', $$select 1 from public.sales_leads where email = 'lead@example.com'$$),
  'deny', 'a customer-level member does not');

select * from finish();
rollback;
