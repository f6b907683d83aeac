-- edgeguard: user-issued API keys, end to end (docs/api-keys.md).
--
-- Adds to public.api_keys what the `api-keys` function and the `apikey` auth
-- mode need: counted uses with refill, a per-key rate limit, who created and
-- revoked a key, and which key a rotation replaced. The scope ceiling (a key
-- never holds a scope its owner's role does not grant) is enforced here as
-- well as in edgeguard-core. Verification is one call,
-- private.api_key_verify, which counts uses and rate limits atomically.

alter table public.api_keys
  add column uses_remaining integer check (uses_remaining >= 0),
  add column refill_amount integer check (refill_amount > 0),
  add column refill_interval_s integer check (refill_interval_s > 0),
  add column refilled_at timestamptz,
  add column rate_limit integer check (rate_limit > 0),
  add column rate_limit_window_s integer check (rate_limit_window_s > 0),
  add column rate_window_start timestamptz,
  add column rate_window_count integer not null default 0 check (rate_window_count >= 0),
  add column created_by uuid references auth.users (id) on delete set null,
  add column revoked_by uuid references auth.users (id) on delete set null,
  add column rotated_from uuid references public.api_keys (id) on delete set null,
  add constraint api_keys_refill_pair check ((refill_amount is null) = (refill_interval_s is null)),
  add constraint api_keys_refill_counts check (refill_amount is null or uses_remaining is not null),
  add constraint api_keys_rate_limit_pair check ((rate_limit is null) = (rate_limit_window_s is null));

create index api_keys_created_by_idx on public.api_keys (created_by);
create index api_keys_revoked_by_idx on public.api_keys (revoked_by);
create index api_keys_rotated_from_idx on public.api_keys (rotated_from);

grant select (uses_remaining, refill_amount, refill_interval_s, refilled_at, rate_limit, rate_limit_window_s,
              created_by, revoked_by, rotated_from)
  on table public.api_keys to authenticated;

-- Counters and last use change on verification: not audited (the creation,
-- rotation and revocation are).
select private.enable_audit('public.api_keys', 'tenant_id', array['key_hash'],
  array['last_used_at', 'updated_at', 'uses_remaining', 'refilled_at', 'rate_window_start', 'rate_window_count']);

-- Identity columns never change; a revocation is final. key_hash changes only
-- when private.api_key_verify re-hashes a key found by the previous pepper
-- (SECRET_KEY rotation, docs/api-keys.md).
create or replace function private.api_keys_before_update()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.id <> old.id or new.user_id <> old.user_id or new.tenant_id is distinct from old.tenant_id
     or new.prefix <> old.prefix or new.created_at <> old.created_at
     or new.created_by is distinct from old.created_by and new.created_by is not null
     or (new.key_hash <> old.key_hash and current_setting('edgeguard.api_key_rehash', true) is distinct from 'on') then
    raise exception 'api_keys: identity columns are immutable' using errcode = '42501';
  end if;
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'api_keys: a revoked key stays revoked' using errcode = '42501';
  end if;
  return new;
end;
$$;

-- The scope ceiling ----------------------------------------------------------

-- Every permission of a role and of the roles below it (as the access-token hook computes them).
create or replace function private.role_permissions_of(p_role text)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(distinct p.permission order by p.permission), '{}')
  from public.role_permissions p
  join public.roles r on r.name = p.role
  where r.rank <= (select r2.rank from public.roles r2 where r2.name = p_role);
$$;
comment on function private.role_permissions_of(text) is
  'edgeguard: permissions a role holds on the ladder (its own and every lower role''s)';

-- The role a key's owner holds for the key: their membership role in the
-- key's tenant (null when not a member), or the lowest rung for a key
-- without tenant (as the access-token hook gives a user without tenant).
create or replace function private.api_key_owner_role(p_user uuid, p_tenant uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when p_tenant is null then (select r.name from public.roles r order by r.rank limit 1)
    else (select m.role from public.tenant_members m where m.tenant_id = p_tenant and m.user_id = p_user)
  end;
$$;
comment on function private.api_key_owner_role(uuid, uuid) is
  'edgeguard: the role an API key''s owner holds in the key''s tenant (null: no longer a member)';

-- Whether every scope is covered by a held permission (`resource:*` covers the
-- resource's actions; a wanted `resource:*` needs a held `resource:*`).
create or replace function private.scopes_within(p_scopes text[], p_held text[])
returns boolean
language sql
immutable
set search_path = ''
as $$
  select not exists (
    select 1 from unnest(p_scopes) s
    where not exists (
      select 1 from unnest(p_held) h
      where h = s or (split_part(h, ':', 2) = '*' and split_part(h, ':', 1) = split_part(s, ':', 1))
    )
  );
$$;
comment on function private.scopes_within(text[], text[]) is
  'edgeguard: whether held permissions cover every scope (the API-key scope ceiling)';

create or replace function private.api_keys_scope_ceiling()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_role text := private.api_key_owner_role(new.user_id, new.tenant_id);
begin
  if not private.valid_scopes(new.scopes) then
    return new;  -- the check constraint refuses malformed scopes (23514)
  end if;
  if v_role is null then
    raise exception 'api_keys: the owner is not a member of the key''s tenant' using errcode = '42501';
  end if;
  if not private.scopes_within(new.scopes, private.role_permissions_of(v_role)) then
    raise exception 'api_keys: a scope exceeds the owner''s permissions' using errcode = '42501';
  end if;
  return new;
end;
$$;
revoke all on function private.api_keys_scope_ceiling() from public, anon, authenticated, service_role;

create trigger api_keys_scope_ceiling before insert or update of scopes, user_id, tenant_id on public.api_keys
  for each row execute function private.api_keys_scope_ceiling();

-- Verification ---------------------------------------------------------------

-- The one round trip behind `x-api-key: egk_…`. The service passes the keyed
-- hash (and, during a SECRET_KEY rotation, the hash under the previous
-- pepper; a key found by it is re-hashed). One row always comes back:
--   status   ok | unknown | revoked | expired | exhausted | rate_limited | owner_removed
-- with, for a known key, its owner, tenant, scopes, the owner's current role
-- and that role's permissions. Counted uses (refilled first) and the per-key
-- rate limit are decided under the row lock, so concurrent requests never
-- spend a use twice. last_used_at is written at most once a minute.
create or replace function private.api_key_verify(
  p_key_hash text,
  p_previous_hash text default null,
  p_now timestamptz default now()
)
returns table (status text, key_id uuid, user_id uuid, tenant_id uuid, scopes text[], user_role text,
               permissions text[], expires_at bigint, counted boolean, retry_after_s integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  k public.api_keys;
  v_status text := 'ok';
  v_role text;
  v_retry integer;
  v_window_end timestamptz;
begin
  if p_key_hash is not null and p_key_hash ~ '^[0-9a-f]{64}$' then
    select * into k from public.api_keys a where a.key_hash = p_key_hash for update;
    if k.id is null and p_previous_hash ~ '^[0-9a-f]{64}$' then
      select * into k from public.api_keys a where a.key_hash = p_previous_hash for update;
      if k.id is not null then
        perform set_config('edgeguard.api_key_rehash', 'on', true);
        update public.api_keys a set key_hash = p_key_hash where a.id = k.id;
        perform set_config('edgeguard.api_key_rehash', '', true);
      end if;
    end if;
  end if;
  if k.id is null then
    return query select 'unknown'::text, null::uuid, null::uuid, null::uuid, '{}'::text[], null::text,
                        '{}'::text[], null::bigint, false, null::integer;
    return;
  end if;

  v_role := private.api_key_owner_role(k.user_id, k.tenant_id);
  if k.revoked_at is not null then
    v_status := 'revoked';
  elsif k.expires_at is not null and k.expires_at <= p_now then
    v_status := 'expired';
  elsif v_role is null then
    v_status := 'owner_removed';
  else
    if k.refill_amount is not null
       and (k.refilled_at is null or p_now >= k.refilled_at + make_interval(secs => k.refill_interval_s)) then
      k.uses_remaining := k.refill_amount;
      k.refilled_at := p_now;
    end if;
    if k.rate_limit is not null then
      v_window_end := k.rate_window_start + make_interval(secs => k.rate_limit_window_s);
      if k.rate_window_start is null or p_now >= v_window_end then
        k.rate_window_start := p_now;
        k.rate_window_count := 0;
      elsif k.rate_window_count >= k.rate_limit then
        v_status := 'rate_limited';
        v_retry := greatest(1, ceil(extract(epoch from v_window_end - p_now))::integer);
      end if;
    end if;
    if v_status = 'ok' and k.uses_remaining is not null then
      if k.uses_remaining <= 0 then
        v_status := 'exhausted';
      else
        k.uses_remaining := k.uses_remaining - 1;
      end if;
    end if;
    if v_status = 'ok' and k.rate_limit is not null then
      k.rate_window_count := k.rate_window_count + 1;
    end if;
    if v_status = 'ok' and (k.last_used_at is null or k.last_used_at < p_now - interval '1 minute') then
      k.last_used_at := p_now;
    end if;
    update public.api_keys a
       set uses_remaining = k.uses_remaining, refilled_at = k.refilled_at,
           rate_window_start = k.rate_window_start, rate_window_count = k.rate_window_count,
           last_used_at = k.last_used_at
     where a.id = k.id
       and (a.uses_remaining, a.refilled_at, a.rate_window_start, a.rate_window_count, a.last_used_at)
           is distinct from (k.uses_remaining, k.refilled_at, k.rate_window_start, k.rate_window_count, k.last_used_at);
  end if;

  return query select v_status, k.id, k.user_id, k.tenant_id, k.scopes, v_role,
                      case when v_role is null then '{}'::text[] else private.role_permissions_of(v_role) end,
                      floor(extract(epoch from k.expires_at))::bigint,
                      (k.uses_remaining is not null or k.rate_limit is not null),
                      v_retry;
end;
$$;
comment on function private.api_key_verify(text, text, timestamptz) is
  'edgeguard: verifies an API key by its keyed hash (service only): status, owner, tenant, scopes, owner role and permissions; counts uses and rate limit';

-- The lookup of the first API-key migration answered nothing about uses,
-- refills or rate limits: replaced by private.api_key_verify.
drop function private.api_key_authenticate(text, timestamptz);

-- Revocation and rotation (the `api-keys` function, as the service, on behalf of p_actor)

-- Revokes key p_id when p_actor owns it or administers its tenant. Answers
-- whether the actor may see the key at all (an unknown id and another's key
-- look the same); revoking a revoked key again changes nothing.
create or replace function private.api_key_revoke(p_id uuid, p_actor uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  k public.api_keys;
begin
  select * into k from public.api_keys a where a.id = p_id for update;
  if k.id is null or not (
       k.user_id = p_actor
       or exists (select 1 from public.tenant_members m join public.roles r on r.name = m.role
                  where m.tenant_id = k.tenant_id and m.user_id = p_actor
                    and r.rank >= (select r2.rank from public.roles r2 where r2.name = 'admin'))) then
    return false;
  end if;
  if k.revoked_at is null then
    update public.api_keys a set revoked_at = now(), revoked_by = p_actor where a.id = k.id;
  end if;
  return true;
end;
$$;
comment on function private.api_key_revoke(uuid, uuid) is
  'edgeguard: revokes an API key for its owner or a tenant admin (service only)';

-- Replaces key p_id of its owner p_actor by a new key (p_prefix, p_hash minted
-- by edgeguard-core) with the same name, tenant, scopes and limits; the old
-- key stays valid for p_overlap_s seconds (0–7 days), never longer than it
-- already would. Only the owner rotates: the new plaintext goes to the caller.
-- Answers the new key's id, or null when the actor owns no live key p_id.
create or replace function private.api_key_rotate(p_id uuid, p_actor uuid, p_prefix text, p_hash text, p_overlap_s integer)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  k public.api_keys;
  v_new uuid;
  v_until timestamptz := now() + make_interval(secs => p_overlap_s);
begin
  if p_overlap_s is null or p_overlap_s < 0 or p_overlap_s > 7 * 24 * 3600 then
    raise exception 'api_keys: overlap must be 0 to 7 days' using errcode = '22023';
  end if;
  select * into k from public.api_keys a where a.id = p_id for update;
  if k.id is null or k.user_id <> p_actor or k.revoked_at is not null
     or (k.expires_at is not null and k.expires_at <= now()) then
    return null;
  end if;
  insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes, expires_at, uses_remaining,
                               refill_amount, refill_interval_s, refilled_at, rate_limit, rate_limit_window_s,
                               created_by, rotated_from)
  values (k.tenant_id, k.user_id, k.name, p_prefix, p_hash, k.scopes, k.expires_at, k.uses_remaining,
          k.refill_amount, k.refill_interval_s, k.refilled_at, k.rate_limit, k.rate_limit_window_s,
          p_actor, k.id)
  returning id into v_new;
  if p_overlap_s = 0 then
    update public.api_keys a set revoked_at = now(), revoked_by = p_actor where a.id = k.id;
  else
    update public.api_keys a set expires_at = least(coalesce(a.expires_at, v_until), v_until) where a.id = k.id;
  end if;
  return v_new;
end;
$$;
comment on function private.api_key_rotate(uuid, uuid, text, text, integer) is
  'edgeguard: replaces an API key by a new one for its owner, the old one valid for an overlap (service only)';

revoke all on function private.role_permissions_of(text), private.api_key_owner_role(uuid, uuid),
  private.scopes_within(text[], text[]), private.api_key_verify(text, text, timestamptz),
  private.api_key_revoke(uuid, uuid), private.api_key_rotate(uuid, uuid, text, text, integer)
  from public, anon, authenticated;
grant execute on function private.role_permissions_of(text), private.api_key_owner_role(uuid, uuid),
  private.scopes_within(text[], text[]), private.api_key_verify(text, text, timestamptz),
  private.api_key_revoke(uuid, uuid), private.api_key_rotate(uuid, uuid, text, text, integer)
  to service_role;
