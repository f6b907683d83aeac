-- edgeguard: tenants, memberships and the role ladder (SPEC §4, §7).
--
-- Conventions for every edgeguard migration:
--   * RLS is enabled on every table; policies are per operation and `to
--     authenticated`, calling auth.uid() as `(select auth.uid())` so Postgres
--     evaluates it once per statement (Supabase's RLS performance guidance).
--   * Membership and role checks go through `private` security-definer helpers
--     with `set search_path = ''`; policies use them as
--     `tenant_id in (select private.…())`, evaluated once per statement.
--   * Supabase's default privileges grant ALL on new public tables and
--     functions to anon, authenticated and service_role: each table revokes
--     everything from anon and authenticated and grants back exactly what its
--     policies serve (TRUNCATE in particular bypasses RLS).

create schema if not exists private;
comment on schema private is 'edgeguard: helpers and internal state; not exposed through the Data API';

-- Postgres lets PUBLIC execute every new function: each function below is
-- revoked from public and granted to the roles that need it.
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Generic helpers --------------------------------------------------------------

create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
comment on function private.set_updated_at() is 'edgeguard: BEFORE UPDATE trigger keeping updated_at current';

-- A uuid from text, or null when the text is not one (claims are untrusted
-- shapes even after signature checks).
create or replace function private.try_uuid(p_text text)
returns uuid
language sql
immutable
set search_path = ''
as $$
  select case
    when p_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then p_text::uuid
  end;
$$;

-- The role ladder -----------------------------------------------------------

create table public.roles (
  name text primary key check (name ~ '^[a-z][a-z0-9_]{0,31}$'),
  rank integer not null unique check (rank between 1 and 1000),
  description text not null default '' check (char_length(description) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.roles is
  'edgeguard: the role ladder (SPEC §4); a higher rank holds the permissions of every lower rank';

create table public.role_permissions (
  role text not null references public.roles (name) on update cascade on delete cascade,
  permission text not null check (permission ~ '^[a-z][a-z0-9_-]{0,63}:[a-z*][a-z0-9_*-]{0,63}$'),
  created_at timestamptz not null default now(),
  primary key (role, permission)
);
comment on table public.role_permissions is
  'edgeguard: resource:action permissions granted directly to a role (inherited upwards by the ladder)';
create index role_permissions_permission_idx on public.role_permissions (permission);

insert into public.roles (name, rank, description) values
  ('admin', 50, 'manages the tenant: members, roles, audit'),
  ('moderator', 40, 'reads users, moderates content'),
  ('provider', 30, 'provides services'),
  ('customer', 20, 'uses services, places orders'),
  ('guest', 10, 'public, read-only');

insert into public.role_permissions (role, permission) values
  ('admin', 'users:write'), ('admin', 'roles:write'), ('admin', 'audit:read'), ('admin', 'tenants:write'),
  ('moderator', 'users:read'), ('moderator', 'content:moderate'),
  ('provider', 'services:write'),
  ('customer', 'services:read'), ('customer', 'orders:write'),
  ('guest', 'public:read');

-- Tenants and members -------------------------------------------------------

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tenants is 'edgeguard: one row per customer organisation; every tenant-owned row points here';

create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- a deleted user leaves every tenant
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'customer' references public.roles (name) on update cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
comment on table public.tenant_members is 'edgeguard: who belongs to which tenant, with which role of the ladder';
-- the primary key serves lookups by tenant; these serve lookups by user and role
create index tenant_members_user_id_idx on public.tenant_members (user_id, tenant_id);
create index tenant_members_role_idx on public.tenant_members (role);

create trigger set_updated_at before update on public.roles
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenants
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenant_members
  for each row execute function private.set_updated_at();

-- Membership helpers (security definer: they read tenant_members whatever the
-- caller's own policies allow, and only ever about the caller) -------------

create or replace function private.role_rank(p_role text)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select r.rank from public.roles r where r.name = p_role;
$$;
comment on function private.role_rank(text) is 'edgeguard: the rank of a role on the ladder (null when unknown)';

-- The tenants the caller (auth.uid()) belongs to.
create or replace function private.member_tenant_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.tenant_id from public.tenant_members m where m.user_id = (select auth.uid());
$$;
comment on function private.member_tenant_ids() is 'edgeguard: tenants the caller belongs to';

-- The tenants where the caller holds at least p_min_role.
create or replace function private.tenant_ids_with_role(p_min_role text)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.tenant_id
  from public.tenant_members m
  join public.roles r on r.name = m.role
  where m.user_id = (select auth.uid())
    and r.rank >= (select r2.rank from public.roles r2 where r2.name = p_min_role);
$$;
comment on function private.tenant_ids_with_role(text) is
  'edgeguard: tenants where the caller holds at least the given role';

create or replace function private.has_tenant_role(p_tenant_id uuid, p_min_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.tenant_members m
    join public.roles r on r.name = m.role
    where m.tenant_id = p_tenant_id
      and m.user_id = (select auth.uid())
      and r.rank >= (select r2.rank from public.roles r2 where r2.name = p_min_role)
  );
$$;
comment on function private.has_tenant_role(uuid, text) is
  'edgeguard: whether the caller holds at least the given role in the tenant';

-- Users who share at least one tenant with the caller (the caller included).
create or replace function private.co_member_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select distinct other.user_id
  from public.tenant_members mine
  join public.tenant_members other on other.tenant_id = mine.tenant_id
  where mine.user_id = (select auth.uid());
$$;
comment on function private.co_member_ids() is 'edgeguard: users sharing a tenant with the caller';

revoke all on function private.set_updated_at(), private.try_uuid(text), private.role_rank(text),
  private.member_tenant_ids(), private.tenant_ids_with_role(text), private.has_tenant_role(uuid, text),
  private.co_member_ids() from public, anon;
grant execute on function private.try_uuid(text), private.role_rank(text), private.member_tenant_ids(),
  private.tenant_ids_with_role(text), private.has_tenant_role(uuid, text), private.co_member_ids()
  to authenticated, service_role;

-- Privileges and policies ---------------------------------------------------

alter table public.roles enable row level security;
alter table public.role_permissions enable row level security;
alter table public.tenants enable row level security;
alter table public.tenant_members enable row level security;

revoke all on table public.roles, public.role_permissions, public.tenants, public.tenant_members
  from anon, authenticated;

-- roles / role_permissions: reference data every signed-in user may read;
-- changed only by the service (migrations, the service role).
grant select on table public.roles, public.role_permissions to authenticated;
-- doctor: allow sql.permissive_policy reference data (roles and their permissions) every signed-in user may read
create policy roles_select on public.roles for select to authenticated using (true);
-- doctor: allow sql.permissive_policy reference data (roles and their permissions) every signed-in user may read
create policy role_permissions_select on public.role_permissions for select to authenticated using (true);

-- tenants: members read their tenants; tenant admins rename them. Creating and
-- deleting tenants is a service operation.
grant select on table public.tenants to authenticated;
grant update (name) on table public.tenants to authenticated;
create policy tenants_select on public.tenants for select to authenticated
  using (id in (select private.member_tenant_ids()));
create policy tenants_update on public.tenants for update to authenticated
  using (id in (select private.tenant_ids_with_role('admin')))
  with check (id in (select private.tenant_ids_with_role('admin')));

-- tenant_members: members see their co-members; tenant admins add, re-role and
-- remove members, but never their own membership (no self-demotion or
-- lock-out by accident; another admin or the service does that).
grant select on table public.tenant_members to authenticated;
grant insert (tenant_id, user_id, role) on table public.tenant_members to authenticated;
grant update (role) on table public.tenant_members to authenticated;
grant delete on table public.tenant_members to authenticated;
create policy tenant_members_select on public.tenant_members for select to authenticated
  using (tenant_id in (select private.member_tenant_ids()));
create policy tenant_members_insert on public.tenant_members for insert to authenticated
  with check (tenant_id in (select private.tenant_ids_with_role('admin')));
create policy tenant_members_update on public.tenant_members for update to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')) and user_id <> (select auth.uid()))
  with check (tenant_id in (select private.tenant_ids_with_role('admin')) and user_id <> (select auth.uid()));
create policy tenant_members_delete on public.tenant_members for delete to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')) and user_id <> (select auth.uid()));
