-- pgTAP: recipe marketplace (examples/marketplace). The orders matrix:
-- customers see and place their own orders, agents see and update those
-- assigned to them (and cannot hand them on), admins see and update their
-- tenant's; nobody deletes; every write lands in the audit log with its actor.
-- Seed UUIDs: docs/database.md (tenant A aaaaaaaa-…-000000000000, its admin
-- …01, customer …04, guest …05; tenant B bbbbbbbb-…).
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;
-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).

select plan(27);

-- Two agents of tenant A (rolled back with everything else).
insert into auth.users (id, aud, role, email) values
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'authenticated', 'authenticated', 'agent1@tenant-a.test'),
  ('aaaaaaaa-0000-4000-8000-0000000000a2', 'authenticated', 'authenticated', 'agent2@tenant-a.test');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'agent'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a2', 'agent');

-- Runs p_sql as the user p_user (authenticated), always undone: 'allow' when a
-- row was touched, 'deny' on 0 rows or 42501, else the SQLSTATE.
create function eg_tests.as_user(p_user uuid, p_sql text) returns text
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

insert into public.orders (id, tenant_id, customer_id, assigned_agent_id, total_cents, note) values
  ('0000000a-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'aaaaaaaa-0000-4000-8000-0000000000a1', 1000, 'o1'),
  ('0000000a-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', null, 2000, 'o2'),
  ('0000000a-0000-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000005', 'aaaaaaaa-0000-4000-8000-0000000000a2', 3000, 'o3'),
  ('0000000b-0000-4000-8000-000000000004', 'bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000004', null, 4000, 'o4');

select ok(exists (select 1 from public.roles where name = 'agent'), 'the ladder has agent');
select ok(private.role_rank('agent') > private.role_rank('customer') and private.role_rank('agent') < private.role_rank('admin'),
  'agent ranks between customer and admin');

-- Reading: which notes each actor sees.
create function eg_tests.seen(p_user uuid) returns text language plpgsql as $$
declare v text;
begin
  perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
  set local role authenticated;
  select coalesce(string_agg(note, ',' order by note), '') into v from public.orders;
  reset role;
  return v;
end;
$$;
select is(eg_tests.seen('aaaaaaaa-0000-4000-8000-000000000004'), 'o1,o2', 'a customer sees their own orders');
select is(eg_tests.seen('aaaaaaaa-0000-4000-8000-000000000005'), 'o3', 'another customer sees only theirs');
select is(eg_tests.seen('aaaaaaaa-0000-4000-8000-0000000000a1'), 'o1', 'an agent sees the orders assigned to them');
select is(eg_tests.seen('aaaaaaaa-0000-4000-8000-0000000000a2'), 'o3', 'the other agent sees theirs');
select is(eg_tests.seen('aaaaaaaa-0000-4000-8000-000000000001'), 'o1,o2,o3', 'the admin sees every order of the tenant');
select is(eg_tests.seen('bbbbbbbb-0000-4000-8000-000000000001'), 'o4', 'the admin of another tenant sees only theirs');
select is(eg_tests.seen('cccccccc-0000-4000-8000-000000000001'), '', 'an outsider sees nothing');
select is(eg_tests.outcome('anon', $$select 1 from public.orders$$), 'deny', 'anon reads nothing');

-- Placing orders.
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$insert into public.orders (tenant_id, customer_id, total_cents)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 500)$$), 'allow', 'a customer places their own order');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$insert into public.orders (tenant_id, customer_id, total_cents)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000005', 500)$$), 'deny', 'but not in someone else''s name');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$insert into public.orders (tenant_id, customer_id, total_cents)
  values ('bbbbbbbb-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 500)$$), 'deny', 'nor in another tenant');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$insert into public.orders (tenant_id, customer_id, total_cents, status)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 500, 'paid')$$), 'deny', 'nor already paid (column grants)');

-- Updating.
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-0000000000a1', $$update public.orders set status = 'shipped' where note = 'o1'$$),
  'allow', 'an agent updates an order assigned to them');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-0000000000a1', $$update public.orders set status = 'shipped' where note = 'o3'$$),
  'deny', 'not one assigned to another agent');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-0000000000a1', $$update public.orders set assigned_agent_id = 'aaaaaaaa-0000-4000-8000-0000000000a2' where note = 'o1'$$),
  'deny', 'and cannot hand it to someone else');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$update public.orders set status = 'refunded' where note = 'o1'$$),
  'deny', 'a customer does not change their order''s status');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000004', $$update public.orders set total_cents = 1 where note = 'o1'$$),
  'deny', 'nor its total (no grant on the column, for anyone)');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000001', $$update public.orders set assigned_agent_id = 'aaaaaaaa-0000-4000-8000-0000000000a1' where note = 'o3'$$),
  'allow', 'the admin reassigns any order of the tenant');
select is(eg_tests.as_user('bbbbbbbb-0000-4000-8000-000000000001', $$update public.orders set status = 'cancelled' where note = 'o1'$$),
  'deny', 'another tenant''s admin does not');
select is(eg_tests.as_user('aaaaaaaa-0000-4000-8000-000000000001', $$delete from public.orders where note = 'o2'$$),
  'deny', 'nobody deletes, not even the admin');

-- The audit log: a write as the agent, kept, with its actor.
select set_config('request.jwt.claims', '{"sub": "aaaaaaaa-0000-4000-8000-0000000000a1", "role": "authenticated"}', true);
set local role authenticated;
update public.orders set status = 'paid' where note = 'o1';
reset role;
select is((select count(*)::int from public.audit_logs
           where table_name = 'orders' and operation = 'UPDATE' and actor_id = 'aaaaaaaa-0000-4000-8000-0000000000a1'
             and new_record ->> 'status' = 'paid' and old_record ->> 'status' = 'pending'),
  1, 'the agent''s update is audited with old and new status and the agent as actor');
select is((select tenant_id from public.audit_logs where table_name = 'orders' and operation = 'UPDATE'
           and actor_id = 'aaaaaaaa-0000-4000-8000-0000000000a1' limit 1),
  'aaaaaaaa-0000-4000-8000-000000000000'::uuid, 'in the tenant''s chain');
select is((select count(*)::int from public.audit_logs where table_name = 'orders' and operation = 'INSERT'
           and new_record ->> 'note' in ('o1', 'o2', 'o3', 'o4')), 4, 'inserts are audited too');
select is((select count(*)::int from pg_trigger where tgrelid = 'public.orders'::regclass and tgname in ('audit_row', 'audit_truncate')),
  2, 'private.enable_audit installed the row and truncate triggers');
select is(eg_tests.outcome('admin', $$select 1 from public.audit_logs where table_name = 'orders'$$), 'allow',
  'the tenant admin reads the orders'' audit trail');

select * from finish();
rollback;
