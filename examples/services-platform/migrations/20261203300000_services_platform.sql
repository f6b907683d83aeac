-- Recipe "multi-tenant services platform" (examples/services-platform/README.md):
-- providers offer services, customers book them, moderators and admins see
-- their whole tenant. Callers are Clerk users (a third-party issuer,
-- docs/issuers.md) or Supabase Auth users, side by side.
--
-- Who the caller is comes from request.jwt.claims, which asUser sets from the
-- identity the core verified and mapped: `sub`, `tenant_id`, `user_role`,
-- and `issuer` (the EDGEGUARD_ISSUERS name; absent for Supabase tokens). A
-- Clerk user is not a row of auth.users and a Clerk organization not a row
-- of public.tenants: tenants are keyed by the issuer's own id (`org_…`) and
-- the issuer's name, so two issuers' tenants can never meet; subjects are
-- text (`user_…`), never cast to uuid (auth.uid() would fail on them).

-- The caller's claim `p_name` (`issuer` defaults to 'supabase').
create or replace function private.services_claim(p_name text)
returns text
language sql
stable
set search_path = ''
as $$
  select case when p_name = 'issuer'
              then coalesce((select auth.jwt()) ->> 'issuer', 'supabase')
              else (select auth.jwt()) ->> p_name end;
$$;
comment on function private.services_claim(text) is
  'recipe services-platform: a claim of the caller as the core mapped it (issuer defaults to supabase)';
revoke all on function private.services_claim(text) from public, anon;
grant execute on function private.services_claim(text) to authenticated, service_role;

create table public.services (
  id uuid primary key default gen_random_uuid(),
  issuer text not null default private.services_claim('issuer') check (char_length(issuer) between 1 and 32),
  tenant_key text not null check (char_length(tenant_key) between 1 and 128),
  provider_sub text not null check (char_length(provider_sub) between 1 and 256),
  title text not null check (char_length(title) between 1 and 200),
  price_cents bigint not null check (price_cents between 0 and 100000000),
  created_at timestamptz not null default now()
);
comment on table public.services is
  'recipe services-platform: services offered by providers of a tenant (the issuer''s org id); audited';

create table public.bookings (
  id uuid primary key default gen_random_uuid(),
  issuer text not null default private.services_claim('issuer') check (char_length(issuer) between 1 and 32),
  tenant_key text not null check (char_length(tenant_key) between 1 and 128),
  service_id uuid not null references public.services (id) on delete cascade,
  provider_sub text not null check (char_length(provider_sub) between 1 and 256),
  customer_sub text not null check (char_length(customer_sub) between 1 and 256),
  note text not null default '' check (char_length(note) <= 1000),
  created_at timestamptz not null default now()
);
comment on table public.bookings is
  'recipe services-platform: bookings; customers see their own, providers those of their services, moderators and admins the tenant''s; audited';

-- one index per policy column
create index services_tenant_idx on public.services (tenant_key, issuer, created_at desc);
create index services_provider_sub_idx on public.services (provider_sub);
create index bookings_tenant_idx on public.bookings (tenant_key, issuer, created_at desc);
create index bookings_customer_sub_idx on public.bookings (customer_sub);
create index bookings_provider_sub_idx on public.bookings (provider_sub);
create index bookings_service_id_idx on public.bookings (service_id);

-- Every write, with the acting subject in actor_claims (docs/security.md).
select private.enable_audit('public.services', 'tenant_key');
select private.enable_audit('public.bookings', 'tenant_key');

alter table public.services enable row level security;
alter table public.bookings enable row level security;
revoke all on table public.services, public.bookings from anon, authenticated;
grant select, delete on table public.services to authenticated;
grant insert (tenant_key, provider_sub, title, price_cents) on table public.services to authenticated;
grant select on table public.bookings to authenticated;
grant insert (tenant_key, service_id, provider_sub, customer_sub, note) on table public.bookings to authenticated;

-- Services: the caller's tenant (same issuer, same tenant id) reads them;
-- providers and above offer their own; moderators and admins remove any.
create policy services_select_tenant on public.services for select to authenticated
  using (issuer = (select private.services_claim('issuer'))
         and tenant_key = (select private.services_claim('tenant_id')));
create policy services_insert_provider on public.services for insert to authenticated
  with check (issuer = (select private.services_claim('issuer'))
              and tenant_key = (select private.services_claim('tenant_id'))
              and provider_sub = (select private.services_claim('sub'))
              and (select private.services_claim('user_role')) in ('provider', 'moderator', 'admin'));
create policy services_delete_moderator on public.services for delete to authenticated
  using (issuer = (select private.services_claim('issuer'))
         and tenant_key = (select private.services_claim('tenant_id'))
         and (select private.services_claim('user_role')) in ('moderator', 'admin'));

-- Bookings: customers see their own, providers those of their services,
-- moderators and admins all of the tenant.
create policy bookings_select_own on public.bookings for select to authenticated
  using (issuer = (select private.services_claim('issuer'))
         and tenant_key = (select private.services_claim('tenant_id'))
         and (customer_sub = (select private.services_claim('sub'))
              or provider_sub = (select private.services_claim('sub'))
              or (select private.services_claim('user_role')) in ('moderator', 'admin')));
-- Customers book for themselves a service of their tenant, naming its provider.
create policy bookings_insert_customer on public.bookings for insert to authenticated
  with check (issuer = (select private.services_claim('issuer'))
              and tenant_key = (select private.services_claim('tenant_id'))
              and customer_sub = (select private.services_claim('sub'))
              and exists (select 1 from public.services s
                          where s.id = service_id and s.provider_sub = bookings.provider_sub
                            and s.tenant_key = bookings.tenant_key and s.issuer = bookings.issuer));
