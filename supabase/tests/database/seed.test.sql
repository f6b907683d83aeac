-- pgTAP: supabase/seed.sql is what docs/database.md promises (the dev stack and
-- the end-to-end tests rely on these fixed ids).
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(9);

select results_eq(
  $$select id, slug from public.tenants where id in ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000') order by id$$,
  $$values ('aaaaaaaa-0000-4000-8000-000000000000'::uuid, 'tenant-a'), ('bbbbbbbb-0000-4000-8000-000000000000'::uuid, 'tenant-b')$$,
  'tenants A and B');

select results_eq(
  $$select m.user_id, u.email::text, m.role from public.tenant_members m join auth.users u on u.id = m.user_id
    where m.tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' order by m.user_id$$,
  $$values ('aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'admin@tenant-a.test', 'admin'),
           ('aaaaaaaa-0000-4000-8000-000000000002'::uuid, 'moderator@tenant-a.test', 'moderator'),
           ('aaaaaaaa-0000-4000-8000-000000000003'::uuid, 'provider@tenant-a.test', 'provider'),
           ('aaaaaaaa-0000-4000-8000-000000000004'::uuid, 'customer@tenant-a.test', 'customer'),
           ('aaaaaaaa-0000-4000-8000-000000000005'::uuid, 'guest@tenant-a.test', 'guest')$$,
  'tenant A: one user of every role');

select results_eq(
  $$select m.user_id, u.email::text, m.role from public.tenant_members m join auth.users u on u.id = m.user_id
    where m.tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000' order by m.user_id$$,
  $$values ('bbbbbbbb-0000-4000-8000-000000000001'::uuid, 'admin@tenant-b.test', 'admin'),
           ('bbbbbbbb-0000-4000-8000-000000000002'::uuid, 'moderator@tenant-b.test', 'moderator'),
           ('bbbbbbbb-0000-4000-8000-000000000003'::uuid, 'provider@tenant-b.test', 'provider'),
           ('bbbbbbbb-0000-4000-8000-000000000004'::uuid, 'customer@tenant-b.test', 'customer'),
           ('bbbbbbbb-0000-4000-8000-000000000005'::uuid, 'guest@tenant-b.test', 'guest')$$,
  'tenant B: one user of every role');

select is((select email::text from auth.users where id = 'cccccccc-0000-4000-8000-000000000001'), 'outsider@no-tenant.test',
  'the outsider exists');
select is((select count(*)::int from public.tenant_members where user_id = 'cccccccc-0000-4000-8000-000000000001'), 0,
  'the outsider belongs to no tenant');
select is((select count(*)::int from public.profiles p join auth.users u on u.id = p.id
           where u.email like '%@tenant-_.test' or u.email = 'outsider@no-tenant.test'), 11, 'every seeded user has a profile');
select ok((select bool_and(encrypted_password = extensions.crypt('edgeguard-dev-password', encrypted_password))
           from auth.users where email like '%@tenant-_.test' or email = 'outsider@no-tenant.test'),
  'every seeded user has the documented dev password');
select ok((select bool_and((u.raw_app_meta_data ->> 'tenant_id')::uuid = m.tenant_id)
           from public.tenant_members m join auth.users u on u.id = m.user_id),
  'app_metadata.tenant_id names the user''s tenant');
select is((select count(*)::int from auth.identities i join auth.users u on u.id = i.user_id
           where i.provider = 'email' and (u.email like '%@tenant-_.test' or u.email = 'outsider@no-tenant.test')), 11,
  'every seeded user has an email identity');

select * from finish();
rollback;
