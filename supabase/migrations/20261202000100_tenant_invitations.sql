-- edgeguard: tenant invitations. Membership needs the invitee's consent.
--
-- A tenant admin no longer inserts members directly (that exposed the
-- victim's profile to the tenant, could put the tenant into the victim's next
-- access token, and told the admin whether a uuid was a user). Instead:
--   1. a tenant admin invites a user id or an email address, offering a role
--      no higher than their own (an insert under RLS);
--   2. the invitee, and only the invitee, accepts (a membership row with the
--      offered role is created) or declines; an admin may revoke meanwhile.
-- Inviting does not look at auth.users at all: an unknown id or address is
-- stored exactly like a known one, so the answer reveals nothing. The
-- invitee's identity is checked at acceptance: auth.uid() equals the invited
-- user id, or the caller's confirmed email (auth.users) equals the invited
-- address, case-insensitively. An invitation is used once, expires (7 days by
-- default, at most 30), and dies when its inviter stops being an admin of the
-- tenant (checked at acceptance) or deletes their account.
-- See docs/database.md, "Tenant invitations".

-- Direct inserts into tenant_members are a service operation from now on (the
-- seed and the service still insert; clients accept invitations).
drop policy tenant_members_insert on public.tenant_members;
revoke insert on table public.tenant_members from anon, authenticated;

create table public.tenant_invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- exactly one of the two; the user id is deliberately no foreign key: an
  -- unknown id must be accepted like a known one (no user-existence oracle)
  invitee_user_id uuid,
  invitee_email text check (char_length(invitee_email) <= 320 and invitee_email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  role text not null references public.roles (name) on update cascade,
  -- null only for invitations the service creates; an inviter's invitations go with their account
  invited_by uuid default auth.uid() references auth.users (id) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'accepted', 'declined', 'revoked')),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  -- who accepted (the invitee's user id, also for invitations by email)
  accepted_by uuid references auth.users (id) on delete set null,
  declined_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (num_nonnulls(invitee_user_id, invitee_email) = 1),
  check (expires_at > created_at and expires_at <= created_at + interval '30 days'),
  check ((status = 'accepted') = (accepted_at is not null)),
  check ((status = 'declined') = (declined_at is not null)),
  check ((status = 'revoked') = (revoked_at is not null))
);
comment on table public.tenant_invitations is
  'edgeguard: invitations to join a tenant; membership is created only when the invitee accepts';
create index tenant_invitations_tenant_id_idx on public.tenant_invitations (tenant_id, created_at desc);
create index tenant_invitations_invitee_user_id_idx on public.tenant_invitations (invitee_user_id) where invitee_user_id is not null;
create index tenant_invitations_invitee_email_idx on public.tenant_invitations (invitee_email) where invitee_email is not null;
create index tenant_invitations_role_idx on public.tenant_invitations (role);
create index tenant_invitations_invited_by_idx on public.tenant_invitations (invited_by);
create index tenant_invitations_accepted_by_idx on public.tenant_invitations (accepted_by);

-- Addresses are stored trimmed and lower-case (matched case-insensitively);
-- what identifies an invitation never changes, and a decision is final.
create or replace function private.tenant_invitations_before_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.invitee_email := lower(btrim(new.invitee_email));
    return new;
  end if;
  if new.id <> old.id or new.tenant_id <> old.tenant_id
     or new.invitee_user_id is distinct from old.invitee_user_id
     or new.invitee_email is distinct from old.invitee_email
     or new.role <> old.role or new.invited_by is distinct from old.invited_by
     or new.created_at <> old.created_at then
    raise exception 'tenant_invitations: an invitation''s identity is immutable' using errcode = '42501';
  end if;
  -- (accepted_by may still become null: the accepting user's account was deleted)
  if old.status <> 'pending'
     and ((new.status, new.accepted_at, new.declined_at, new.revoked_at)
            is distinct from (old.status, old.accepted_at, old.declined_at, old.revoked_at)
          or (new.accepted_by is not null and new.accepted_by is distinct from old.accepted_by)) then
    raise exception 'tenant_invitations: a decided invitation stays decided' using errcode = '42501';
  end if;
  return new;
end;
$$;
revoke all on function private.tenant_invitations_before_write() from public, anon, authenticated, service_role;

create trigger tenant_invitations_before_write before insert or update on public.tenant_invitations
  for each row execute function private.tenant_invitations_before_write();
create trigger set_updated_at before update on public.tenant_invitations
  for each row execute function private.set_updated_at();

-- Helpers (security definer, about the caller only) --------------------------

-- The caller's email address, lower-case, when Supabase Auth has confirmed it
-- (never from the token alone: an unconfirmed sign-up must not claim an
-- address); null for anonymous users and callers without a user row.
create or replace function private.caller_verified_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select lower(u.email::text)
  from auth.users u
  where u.id = (select auth.uid())
    and u.email_confirmed_at is not null
    and not u.is_anonymous;
$$;
comment on function private.caller_verified_email() is
  'edgeguard: the caller''s confirmed email address, lower-case (null when none)';

-- The caller's rank in a tenant (null when not a member).
create or replace function private.caller_rank_in(p_tenant_id uuid)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select r.rank
  from public.tenant_members m
  join public.roles r on r.name = m.role
  where m.tenant_id = p_tenant_id and m.user_id = (select auth.uid());
$$;
comment on function private.caller_rank_in(uuid) is 'edgeguard: the caller''s rank in the tenant (null when not a member)';

revoke all on function private.caller_verified_email(), private.caller_rank_in(uuid) from public, anon;
grant execute on function private.caller_verified_email(), private.caller_rank_in(uuid) to authenticated, service_role;

-- Privileges and policies ----------------------------------------------------

alter table public.tenant_invitations enable row level security;
revoke all on table public.tenant_invitations from anon, authenticated;
-- admins invite (invited_by, status and the decision columns are not theirs to
-- set); every transition goes through the functions below
grant select on table public.tenant_invitations to authenticated;
grant insert (tenant_id, invitee_user_id, invitee_email, role, expires_at) on table public.tenant_invitations to authenticated;

-- the tenant's admins and the invitee see an invitation, nobody else
create policy tenant_invitations_select on public.tenant_invitations for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin'))
         or invitee_user_id = (select auth.uid())
         or invitee_email = (select private.caller_verified_email()));
-- a tenant admin invites, as themselves, offering at most their own role
create policy tenant_invitations_insert on public.tenant_invitations for insert to authenticated
  with check (tenant_id in (select private.tenant_ids_with_role('admin'))
              and invited_by = (select auth.uid())
              and status = 'pending'
              and private.role_rank(role) <= private.caller_rank_in(tenant_id));
-- no update or delete policy: accept, decline and revoke are the functions below

select private.enable_audit('public.tenant_invitations');

-- Transitions ----------------------------------------------------------------

-- The invitee accepts: a pending, unexpired invitation addressed to the caller
-- (by user id, or by their confirmed email), whose inviter still holds admin
-- and at least the offered role in the tenant, becomes a membership. Anything
-- else — unknown id, someone else's invitation, used, declined, revoked,
-- expired — is one answer: P0002 "no pending invitation". Already a member of
-- the tenant: 23505, the invitation stays pending (the invitee may decline it).
create or replace function private.accept_tenant_invitation(p_invitation_id uuid)
returns table (tenant_id uuid, role text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := (select auth.uid());
  v_email text := private.caller_verified_email();
  v_inv public.tenant_invitations;
begin
  if v_uid is null or p_invitation_id is null then
    raise exception 'no pending invitation with this id' using errcode = 'P0002';
  end if;
  select i.* into v_inv
  from public.tenant_invitations i
  where i.id = p_invitation_id
    and (i.invitee_user_id = v_uid or i.invitee_email = v_email)
  for update;
  if not found or v_inv.status <> 'pending' or v_inv.expires_at <= now()
     or (v_inv.invited_by is not null and not exists (
           select 1
           from public.tenant_members m
           join public.roles r on r.name = m.role
           where m.tenant_id = v_inv.tenant_id and m.user_id = v_inv.invited_by
             and r.rank >= private.role_rank('admin')
             and r.rank >= private.role_rank(v_inv.role))) then
    raise exception 'no pending invitation with this id' using errcode = 'P0002';
  end if;
  if exists (select 1 from public.tenant_members m where m.tenant_id = v_inv.tenant_id and m.user_id = v_uid) then
    raise exception 'already a member of this tenant' using errcode = '23505';
  end if;
  insert into public.tenant_members (tenant_id, user_id, role) values (v_inv.tenant_id, v_uid, v_inv.role);
  update public.tenant_invitations i
  set status = 'accepted', accepted_at = now(), accepted_by = v_uid
  where i.id = v_inv.id;
  return query select v_inv.tenant_id, v_inv.role;
end;
$$;
comment on function private.accept_tenant_invitation(uuid) is
  'edgeguard: the invitee accepts a pending invitation; creates the membership with the offered role';

-- The invitee declines a pending invitation addressed to them (P0002 otherwise).
create or replace function private.decline_tenant_invitation(p_invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
  v_email text := private.caller_verified_email();
begin
  update public.tenant_invitations i
  set status = 'declined', declined_at = now()
  where i.id = p_invitation_id
    and v_uid is not null
    and (i.invitee_user_id = v_uid or i.invitee_email = v_email)
    and i.status = 'pending';
  if not found then
    raise exception 'no pending invitation with this id' using errcode = 'P0002';
  end if;
end;
$$;
comment on function private.decline_tenant_invitation(uuid) is 'edgeguard: the invitee declines a pending invitation';

-- An admin of the invitation's tenant revokes it while pending (P0002 otherwise).
create or replace function private.revoke_tenant_invitation(p_invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update public.tenant_invitations i
  set status = 'revoked', revoked_at = now()
  where i.id = p_invitation_id
    and i.status = 'pending'
    and private.has_tenant_role(i.tenant_id, 'admin');
  if not found then
    raise exception 'no pending invitation with this id' using errcode = 'P0002';
  end if;
end;
$$;
comment on function private.revoke_tenant_invitation(uuid) is 'edgeguard: a tenant admin revokes a pending invitation';

revoke all on function private.accept_tenant_invitation(uuid), private.decline_tenant_invitation(uuid),
  private.revoke_tenant_invitation(uuid) from public, anon;
grant execute on function private.accept_tenant_invitation(uuid), private.decline_tenant_invitation(uuid),
  private.revoke_tenant_invitation(uuid) to authenticated;

-- The same three as RPCs of the Data API (supabase.rpc(...)); they run as the
-- caller and hand over to the private functions.
create or replace function public.accept_tenant_invitation(p_invitation_id uuid)
returns table (tenant_id uuid, role text)
language sql
volatile
set search_path = ''
as $$
  select a.tenant_id, a.role from private.accept_tenant_invitation(p_invitation_id) a;
$$;
comment on function public.accept_tenant_invitation(uuid) is 'edgeguard: RPC, the invitee accepts an invitation';

create or replace function public.decline_tenant_invitation(p_invitation_id uuid)
returns void
language sql
volatile
set search_path = ''
as $$
  select private.decline_tenant_invitation(p_invitation_id);
$$;
comment on function public.decline_tenant_invitation(uuid) is 'edgeguard: RPC, the invitee declines an invitation';

create or replace function public.revoke_tenant_invitation(p_invitation_id uuid)
returns void
language sql
volatile
set search_path = ''
as $$
  select private.revoke_tenant_invitation(p_invitation_id);
$$;
comment on function public.revoke_tenant_invitation(uuid) is 'edgeguard: RPC, a tenant admin revokes an invitation';

revoke all on function public.accept_tenant_invitation(uuid), public.decline_tenant_invitation(uuid),
  public.revoke_tenant_invitation(uuid) from public, anon;
grant execute on function public.accept_tenant_invitation(uuid), public.decline_tenant_invitation(uuid),
  public.revoke_tenant_invitation(uuid) to authenticated;
