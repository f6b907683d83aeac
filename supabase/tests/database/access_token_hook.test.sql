-- pgTAP: public.custom_access_token_hook (Supabase Auth custom access token
-- hook, Postgres variant) and the grants Supabase documents for it.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

create schema if not exists eg_tests;
-- the event Supabase Auth sends, for a user
create function eg_tests.event(p_user text, p_extra jsonb default '{}') returns jsonb language sql immutable as $$
  select jsonb_build_object(
    'user_id', p_user,
    'authentication_method', 'password',
    'claims', jsonb_build_object(
      'iss', 'http://127.0.0.1:54321/auth/v1', 'aud', 'authenticated', 'exp', 1900000000, 'iat', 1899996400,
      'sub', p_user, 'email', 'someone@example.test', 'phone', '', 'role', 'authenticated', 'aal', 'aal1',
      'session_id', '4b938a09-5372-4177-a314-cfa292099ea2', 'is_anonymous', false,
      'app_metadata', jsonb_build_object('provider', 'email'), 'user_metadata', '{}'::jsonb) || p_extra);
$$;
-- runs the hook as supabase_auth_admin, as Supabase Auth does
create function eg_tests.hook(p_event jsonb) returns jsonb language plpgsql as $$
declare v jsonb;
begin
  set local role supabase_auth_admin;
  v := public.custom_access_token_hook(p_event);
  reset role;
  return v;
end;
$$;

select plan(20);

select has_function('public', 'custom_access_token_hook', array['jsonb'], 'the hook exists');
select function_returns('public', 'custom_access_token_hook', array['jsonb'], 'jsonb', 'it returns jsonb');
select ok(has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'supabase_auth_admin may execute the hook');
select ok(not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'authenticated may not execute the hook');
select ok(not has_function_privilege('anon', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'anon may not execute the hook');
select ok(not exists (select 1 from pg_proc p, aclexplode(p.proacl) a
                      where p.oid = 'public.custom_access_token_hook(jsonb)'::regprocedure and a.grantee = 0),
  'PUBLIC holds no execute on the hook');
select ok(has_schema_privilege('supabase_auth_admin', 'public', 'usage'), 'supabase_auth_admin has usage on public');

-- tenant A's admin
create temp table out_admin as select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001')) as e;
select is((select e -> 'claims' ->> 'user_role' from out_admin), 'admin', 'admin: user_role');
select is((select e -> 'claims' ->> 'tenant_id' from out_admin), 'aaaaaaaa-0000-4000-8000-000000000000', 'admin: tenant_id');
select is((select e -> 'claims' -> 'permissions' from out_admin),
  '["audit:read", "content:moderate", "orders:write", "public:read", "roles:write", "services:read", "services:write", "tenants:write", "users:read", "users:write"]'::jsonb,
  'admin: every permission of the ladder, sorted');
select is((select (e -> 'claims') - array['user_role', 'tenant_id', 'permissions'] from out_admin),
  eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001') -> 'claims',
  'every claim Supabase put in the token is kept unchanged');
select is((select e - 'claims' from out_admin), eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001') - 'claims',
  'the rest of the event is returned as it came');

-- tenant A's customer
select is((select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000004')) -> 'claims' -> 'permissions'),
  '["orders:write", "public:read", "services:read"]'::jsonb, 'customer: own grants plus guest''s');

-- several memberships: app_metadata.tenant_id chooses, else the oldest
insert into public.tenant_members (tenant_id, user_id, role, created_at)
values ('bbbbbbbb-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000001', 'guest', now() + interval '1 day');
select is((select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001',
             '{"app_metadata": {"tenant_id": "bbbbbbbb-0000-4000-8000-000000000000"}}')) -> 'claims' ->> 'user_role'),
  'guest', 'app_metadata.tenant_id selects that membership (role there)');
select is((select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001',
             '{"app_metadata": {"tenant_id": "bbbbbbbb-0000-4000-8000-000000000000"}}')) -> 'claims' ->> 'tenant_id'),
  'bbbbbbbb-0000-4000-8000-000000000000', 'app_metadata.tenant_id selects that tenant');
select is((select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001',
             '{"app_metadata": {"tenant_id": "cccccccc-0000-4000-8000-000000000000"}}')) -> 'claims' ->> 'tenant_id'),
  'aaaaaaaa-0000-4000-8000-000000000000', 'a preferred tenant without membership falls back to the oldest membership');

-- no membership: guest, no tenant (a tenant_id claim already present is removed)
create temp table out_outsider as
  select eg_tests.hook(eg_tests.event('cccccccc-0000-4000-8000-000000000001',
                                '{"tenant_id": "aaaaaaaa-0000-4000-8000-000000000000"}')) as e;
select is((select e -> 'claims' ->> 'user_role' from out_outsider), 'guest', 'no membership: guest');
select ok((select not (e -> 'claims' ? 'tenant_id') from out_outsider), 'no membership: no tenant_id claim, even a supplied one');

select is((select eg_tests.hook(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001', '{"is_anonymous": true}')) -> 'claims' ->> 'user_role'),
  'guest', 'anonymous sign-ins are guests whatever their memberships');
select is((select eg_tests.hook(jsonb_set(eg_tests.event('aaaaaaaa-0000-4000-8000-000000000001'), '{user_id}', '"not-a-uuid"')) -> 'claims' ->> 'user_role'),
  'guest', 'a malformed user id yields a guest, not an error');

select * from finish();
rollback;
