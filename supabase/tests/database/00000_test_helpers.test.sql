-- pgTAP helpers shared by the feature files. Files run in name order (pg_prove
-- with a sorted glob, `supabase test db`), so this one runs first and commits
-- the helpers in schema eg_tests; every feature file still runs in its own
-- transaction and rolls back. To run one feature file alone, run this first.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
create schema if not exists eg_tests;

-- actor -> (database role, JWT claims)
create or replace function eg_tests.actor(p_actor text, out db_role text, out claims jsonb)
language sql immutable as $$
  select case p_actor when 'anon' then 'anon' when 'service' then 'service_role' else 'authenticated' end,
         case p_actor
           when 'anon' then '{"role": "anon"}'::jsonb
           when 'service' then '{"role": "service_role"}'::jsonb
           when 'other' then '{"sub": "bbbbbbbb-0000-4000-8000-000000000001", "role": "authenticated", "email": "admin@tenant-b.test"}'::jsonb
           when 'member' then '{"sub": "aaaaaaaa-0000-4000-8000-000000000004", "role": "authenticated", "email": "customer@tenant-a.test"}'::jsonb
           when 'admin' then '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated", "email": "admin@tenant-a.test"}'::jsonb
           when 'provider' then '{"sub": "aaaaaaaa-0000-4000-8000-000000000003", "role": "authenticated", "email": "provider@tenant-a.test"}'::jsonb
           when 'outsider' then '{"sub": "cccccccc-0000-4000-8000-000000000001", "role": "authenticated", "email": "outsider@no-tenant.test"}'::jsonb
           when 'nobody' then '{"role": "authenticated"}'::jsonb
         end;
$$;
-- Runs p_sql as the actor in a subtransaction that is always undone, and
-- reports 'ok:<rows>' or 'error:<sqlstate>'.
create or replace function eg_tests.try(p_actor text, p_sql text) returns text
language plpgsql as $$
declare
  v_role text;
  v_claims jsonb;
  v_rows bigint;
  v_result text;
begin
  select a.db_role, a.claims into v_role, v_claims from eg_tests.actor(p_actor) a;
  if v_role is null or v_claims is null then
    raise exception 'unknown actor %', p_actor;
  end if;
  begin
    perform set_config('request.jwt.claims', v_claims::text, true);
    execute format('set local role %I', v_role);
    execute p_sql;
    get diagnostics v_rows = row_count;
    v_result := 'ok:' || v_rows;
    raise exception 'eg_tests.undo';
  exception when others then
    if v_result is null then
      v_result := 'error:' || sqlstate;
    end if;
  end;
  return v_result;
end;
$$;
-- allow: the statement ran and touched at least one row; deny: permission
-- error (42501) or no row visible/affected; anything else is reported as is.
create or replace function eg_tests.outcome(p_actor text, p_sql text) returns text
language sql as $$
  select case
    when r ~ '^ok:[1-9]' then 'allow'
    when r = 'ok:0' or r = 'error:42501' then 'deny'
    else r end
  from eg_tests.try(p_actor, p_sql) r;
$$;

select plan(3);
select has_function('eg_tests', 'actor', array['text'], 'eg_tests.actor(actor): database role and claims per test actor');
select has_function('eg_tests', 'try', array['text', 'text'], 'eg_tests.try(actor, sql): runs as the actor, always undone');
select has_function('eg_tests', 'outcome', array['text', 'text'], 'eg_tests.outcome(actor, sql): allow / deny');
select * from finish();
commit;
