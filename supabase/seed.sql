-- edgeguard seed: two tenants with a user of every role, and one user without a
-- tenant. Fixed UUIDs (documented in docs/database.md) for the dev stack and
-- the end-to-end tests. Development data only: every password is
-- `edgeguard-dev-password`.
--
--   tenant A  aaaaaaaa-0000-4000-8000-000000000000  slug tenant-a
--   tenant B  bbbbbbbb-0000-4000-8000-000000000000  slug tenant-b
--   users     <tenant prefix>-0000-4000-8000-00000000000N, N = 1 admin,
--             2 moderator, 3 provider, 4 customer, 5 guest;
--             email <role>@tenant-a.test / <role>@tenant-b.test
--   outsider  cccccccc-0000-4000-8000-000000000001  outsider@no-tenant.test (no tenant)

insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
select '00000000-0000-0000-0000-000000000000'::uuid,
       u.id, 'authenticated', 'authenticated', u.email,
       extensions.crypt('edgeguard-dev-password', extensions.gen_salt('bf', 6)),
       now(), '', '', '', '',
       jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email'))
         || case when u.tenant_id is not null then jsonb_build_object('tenant_id', u.tenant_id) else '{}'::jsonb end,
       jsonb_build_object('display_name', u.display_name),
       now(), now(), false
from (values
  ('aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'admin@tenant-a.test', 'aaaaaaaa-0000-4000-8000-000000000000'::uuid, 'Ada Admin'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'moderator@tenant-a.test', 'aaaaaaaa-0000-4000-8000-000000000000', 'Mona Moderator'),
  ('aaaaaaaa-0000-4000-8000-000000000003', 'provider@tenant-a.test', 'aaaaaaaa-0000-4000-8000-000000000000', 'Paul Provider'),
  ('aaaaaaaa-0000-4000-8000-000000000004', 'customer@tenant-a.test', 'aaaaaaaa-0000-4000-8000-000000000000', 'Cleo Customer'),
  ('aaaaaaaa-0000-4000-8000-000000000005', 'guest@tenant-a.test', 'aaaaaaaa-0000-4000-8000-000000000000', 'Gus Guest'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'admin@tenant-b.test', 'bbbbbbbb-0000-4000-8000-000000000000', 'Bea Admin'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'moderator@tenant-b.test', 'bbbbbbbb-0000-4000-8000-000000000000', 'Milo Moderator'),
  ('bbbbbbbb-0000-4000-8000-000000000003', 'provider@tenant-b.test', 'bbbbbbbb-0000-4000-8000-000000000000', 'Pia Provider'),
  ('bbbbbbbb-0000-4000-8000-000000000004', 'customer@tenant-b.test', 'bbbbbbbb-0000-4000-8000-000000000000', 'Carl Customer'),
  ('bbbbbbbb-0000-4000-8000-000000000005', 'guest@tenant-b.test', 'bbbbbbbb-0000-4000-8000-000000000000', 'Gina Guest'),
  ('cccccccc-0000-4000-8000-000000000001', 'outsider@no-tenant.test', null, 'Otto Outsider')
) as u (id, email, tenant_id, display_name)
on conflict (id) do nothing;

-- email identities, so password sign-in works against a real Supabase Auth
insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
       'email', now(), now(), now()
from auth.users u
where u.email like '%@tenant-a.test' or u.email like '%@tenant-b.test' or u.email = 'outsider@no-tenant.test'
on conflict (provider_id, provider) do nothing;

insert into public.tenants (id, slug, name) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'tenant-a', 'Tenant A'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'tenant-b', 'Tenant B')
on conflict (id) do nothing;

insert into public.tenant_members (tenant_id, user_id, role)
select t.id, (left(t.id::text, 8) || '-0000-4000-8000-00000000000' || r.n)::uuid, r.role
from public.tenants t
cross join (values (1, 'admin'), (2, 'moderator'), (3, 'provider'), (4, 'customer'), (5, 'guest')) as r (n, role)
where t.id in ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000')
on conflict (tenant_id, user_id) do nothing;

insert into public.profiles (id, display_name)
select u.id, u.raw_user_meta_data ->> 'display_name'
from auth.users u
where u.email like '%@tenant-a.test' or u.email like '%@tenant-b.test' or u.email = 'outsider@no-tenant.test'
on conflict (id) do nothing;
