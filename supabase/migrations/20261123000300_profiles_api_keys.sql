-- edgeguard: user profiles and user-created API keys (x-api-key: egk_…).

-- Profiles ------------------------------------------------------------------

create table public.profiles (
  -- one per user; deleted with the user (account deletion)
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (char_length(display_name) between 1 and 100),
  avatar_url text check (char_length(avatar_url) <= 2048 and avatar_url ~ '^https://'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is
  'edgeguard: one profile per user, created by the `me` function on first call; visible to co-members';

create trigger set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();

alter table public.profiles enable row level security;
revoke all on table public.profiles from anon, authenticated;
grant select on table public.profiles to authenticated;
grant insert (id, display_name, avatar_url) on table public.profiles to authenticated;
grant update (display_name, avatar_url) on table public.profiles to authenticated;

create policy profiles_select on public.profiles for select to authenticated
  using (id = (select auth.uid()) or id in (select private.co_member_ids()));
create policy profiles_insert on public.profiles for insert to authenticated
  with check (id = (select auth.uid()));
create policy profiles_update on public.profiles for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
-- no delete policy: a profile goes with its account (the `account` function,
-- through the service, deletes the auth user; the foreign key cascades)

select private.enable_audit('public.profiles', '');

-- API keys ------------------------------------------------------------------
-- Only a keyed hash of the key is stored: key_hash = hex(HMAC-SHA256(SECRET_KEY,
-- full key)), computed by edgeguard-core; prefix is the key's public start,
-- shown in listings. The plaintext is shown once at creation and never stored.

create or replace function private.valid_scopes(p_scopes text[])
returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(array_length(p_scopes, 1), 0) <= 64
     and not exists (
       select 1 from unnest(p_scopes) s
       where s is null or s !~ '^[a-z][a-z0-9_-]{0,63}:[a-z*][a-z0-9_*-]{0,63}$'
     );
$$;
revoke all on function private.valid_scopes(text[]) from public, anon;
grant execute on function private.valid_scopes(text[]) to authenticated, service_role;

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid references public.tenants (id) on delete cascade,
  -- a key dies with its owner
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  prefix text not null unique check (prefix ~ '^egk_[A-Za-z0-9_-]{4,32}$'),
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null default '{}' check (private.valid_scopes(scopes)),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (expires_at is null or expires_at > created_at)
);
comment on table public.api_keys is
  'edgeguard: user-created API keys; only prefix and keyed hash (HMAC-SHA256 with SECRET_KEY) are stored';
create index api_keys_user_id_idx on public.api_keys (user_id, created_at desc);
create index api_keys_tenant_id_idx on public.api_keys (tenant_id, created_at desc);

-- identity columns never change; a revocation is final
create or replace function private.api_keys_before_update()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.id <> old.id or new.user_id <> old.user_id or new.tenant_id is distinct from old.tenant_id
     or new.prefix <> old.prefix or new.key_hash <> old.key_hash or new.created_at <> old.created_at then
    raise exception 'api_keys: identity columns are immutable' using errcode = '42501';
  end if;
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'api_keys: a revoked key stays revoked' using errcode = '42501';
  end if;
  return new;
end;
$$;
revoke all on function private.api_keys_before_update() from public, anon, authenticated, service_role;

create trigger api_keys_immutable before update on public.api_keys
  for each row execute function private.api_keys_before_update();
create trigger set_updated_at before update on public.api_keys
  for each row execute function private.set_updated_at();

alter table public.api_keys enable row level security;
revoke all on table public.api_keys from anon, authenticated;
-- every column but key_hash is readable; a user inserts own keys and renames or revokes them
grant select (id, tenant_id, user_id, name, prefix, scopes, expires_at, revoked_at, last_used_at, created_at, updated_at)
  on table public.api_keys to authenticated;
grant insert (tenant_id, user_id, name, prefix, key_hash, scopes, expires_at) on table public.api_keys to authenticated;
grant update (name, revoked_at) on table public.api_keys to authenticated;

create policy api_keys_select on public.api_keys for select to authenticated
  using (user_id = (select auth.uid()) or tenant_id in (select private.tenant_ids_with_role('admin')));
create policy api_keys_insert on public.api_keys for insert to authenticated
  with check (user_id = (select auth.uid())
              and (tenant_id is null or tenant_id in (select private.member_tenant_ids())));
-- owners and tenant admins rename or revoke; nobody deletes (revocation keeps history)
create policy api_keys_update on public.api_keys for update to authenticated
  using (user_id = (select auth.uid()) or tenant_id in (select private.tenant_ids_with_role('admin')))
  with check (user_id = (select auth.uid()) or tenant_id in (select private.tenant_ids_with_role('admin')));

select private.enable_audit('public.api_keys', 'tenant_id', array['key_hash'], array['last_used_at', 'updated_at']);

-- The lookup behind `x-api-key`: the service passes the keyed hash; a live key
-- (not revoked, not expired) comes back with its owner's role in its tenant,
-- and its last_used_at is refreshed at most once a minute.
create or replace function private.api_key_authenticate(p_key_hash text, p_now timestamptz default now())
returns table (key_id uuid, user_id uuid, tenant_id uuid, scopes text[], user_role text, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if p_key_hash is null or p_key_hash !~ '^[0-9a-f]{64}$' then
    return;
  end if;
  return query
    with k as (
      select a.* from public.api_keys a
      where a.key_hash = p_key_hash
        and a.revoked_at is null
        and (a.expires_at is null or a.expires_at > p_now)
    ), touched as (
      update public.api_keys a set last_used_at = p_now
      from k where a.id = k.id and (a.last_used_at is null or a.last_used_at < p_now - interval '1 minute')
      returning a.id
    )
    select k.id, k.user_id, k.tenant_id, k.scopes,
           (select m.role from public.tenant_members m where m.tenant_id = k.tenant_id and m.user_id = k.user_id),
           k.expires_at
    from k;
end;
$$;
comment on function private.api_key_authenticate(text, timestamptz) is
  'edgeguard: resolves a live API key by its keyed hash (service only); refreshes last_used_at';
revoke all on function private.api_key_authenticate(text, timestamptz) from public, anon, authenticated;
grant execute on function private.api_key_authenticate(text, timestamptz) to service_role;
