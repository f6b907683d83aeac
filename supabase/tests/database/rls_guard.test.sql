-- pgTAP: guards over the whole schema. They fail as soon as a migration adds a
-- public table without RLS or without a policy, grants clients what bypasses
-- RLS, or defines a security-definer function without a pinned search_path.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

create schema if not exists eg_tests;
-- public tables (and partitioned tables) with RLS off, or with no policy
create function eg_tests.rls_offenders() returns text[] language sql stable as $$
  select coalesce(array_agg(c.relname::text || case when not c.relrowsecurity then ' (rls off)' else ' (no policy)' end
                            order by c.relname), '{}')
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')
    and (not c.relrowsecurity or not exists (select 1 from pg_policy p where p.polrelid = c.oid));
$$;

select plan(18);

select is(eg_tests.rls_offenders(), '{}'::text[], 'every public table has RLS enabled and at least one policy');

select set_eq(
  $$select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')$$,
  array['tenants', 'tenant_members', 'tenant_invitations', 'profiles', 'roles', 'role_permissions', 'api_keys',
        'audit_logs', 'webhook_events', 'security_events'],
  'the public tables are exactly those of the RLS matrix (a new table needs matrix rows)');

select is(
  (select coalesce(array_agg(n.nspname || '.' || c.relname order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'private' and c.relkind in ('r', 'p') and not c.relrowsecurity),
  '{}'::text[], 'every private table has RLS enabled too');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')
     -- objects of extensions (pgTAP's views when it is installed in public) are not ours
     and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
     and has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')),
  '{}'::text[], 'anon holds no privilege on any public table');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p')
     and has_table_privilege('authenticated', c.oid, 'TRUNCATE, REFERENCES, TRIGGER')),
  '{}'::text[], 'authenticated holds no TRUNCATE, REFERENCES or TRIGGER on any public table (they bypass RLS)');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'private' and c.relkind in ('r', 'p')
     and (has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          or has_table_privilege('authenticated', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'))),
  '{}'::text[], 'clients hold no privilege on private tables');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and p.prosecdef
     and not coalesce(p.proconfig @> array['search_path=""'], false)),
  '{}'::text[], 'every security-definer function pins search_path to empty');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'private' and has_function_privilege('anon', p.oid, 'execute')),
  '{}'::text[], 'anon can execute no private function');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and p.prosecdef
     and has_function_privilege('anon', p.oid, 'execute')),
  '{}'::text[], 'anon can execute no security-definer function');

select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon has no usage on schema private');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'execute')
     and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')),
  '{}'::text[], 'anon can execute no function of ours in public (Supabase grants it every new one by default)');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and c.relkind = 'S'
     and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
     and (has_sequence_privilege('anon', c.oid, 'USAGE, SELECT, UPDATE')
          or has_sequence_privilege('authenticated', c.oid, 'USAGE, SELECT, UPDATE'))),
  '{}'::text[], 'clients hold no privilege on any sequence');

select is(
  (select coalesce(array_agg(c.relname || '.' || p.polname order by 1), '{}')
   from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and 0 = any (p.polroles)),
  '{}'::text[], 'no policy applies to PUBLIC: each names its roles');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p')
     and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
     and obj_description(c.oid, 'pg_class') is null),
  '{}'::text[], 'every public table has a comment');

select is(
  (select coalesce(array_agg(c.relname::text order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   join pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
   where n.nspname = 'public' and c.relkind = 'r'
     and not exists (select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgfoid = 'private.set_updated_at()'::regprocedure)),
  '{}'::text[], 'every table with updated_at keeps it current by trigger');

-- Supabase's linter rule 0001 (unindexed foreign keys): every foreign key's
-- columns lead some index of its table
select is(
  (select coalesce(array_agg(c.conrelid::regclass::text || '(' || c.conname || ')' order by 1), '{}')
   from pg_constraint c join pg_namespace n on n.oid = c.connamespace
   where c.contype = 'f' and n.nspname in ('public', 'private')
     and not exists (
       select 1 from pg_index i
       where i.indrelid = c.conrelid
         and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
         and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)),
  '{}'::text[], 'every foreign key is covered by an index');

-- the guard itself catches offenders
create table public.guard_probe_no_rls (id int primary key);
create table public.guard_probe_no_policy (id int primary key);
alter table public.guard_probe_no_policy enable row level security;
select is(eg_tests.rls_offenders(), array['guard_probe_no_policy (no policy)', 'guard_probe_no_rls (rls off)'],
  'the guard reports a table with RLS off and a table without policy');
create policy probe_select on public.guard_probe_no_policy for select to authenticated using (true);
alter table public.guard_probe_no_rls enable row level security;
create policy probe_select on public.guard_probe_no_rls for select to authenticated using (true);
select is(eg_tests.rls_offenders(), '{}'::text[], 'and clears once both have RLS and a policy');

select * from finish();
rollback;
