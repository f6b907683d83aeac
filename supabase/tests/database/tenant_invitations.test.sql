-- pgTAP: tenant invitations. Membership needs the invitee's consent: admins
-- invite (never above their own role), only the invitee accepts or declines,
-- once; nobody inserts members directly; inviting reveals nothing about
-- whether a user exists. Seed UUIDs: docs/database.md.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).
-- Unlike eg_tests.try, eg_tests.act keeps what the statement did (the steps
-- below build on each other): it runs p_sql as a named actor of eg_tests.actor,
-- or as the user whose uuid p_who is, and returns the first column of the
-- first row as text ('' when null or none), or 'error:<sqlstate>'.
create function eg_tests.act(p_who text, p_sql text) returns text
language plpgsql as $$
declare
  v_role text := 'authenticated';
  v_claims jsonb;
  v_result text;
begin
  if private.try_uuid(p_who) is not null then
    v_claims := jsonb_build_object('sub', p_who, 'role', 'authenticated');
  else
    select a.db_role, a.claims into v_role, v_claims from eg_tests.actor(p_who) a;
    if v_claims is null then
      raise exception 'unknown actor %', p_who;
    end if;
  end if;
  begin
    perform set_config('request.jwt.claims', v_claims::text, true);
    execute format('set local role %I', v_role);
    execute p_sql into v_result;
    v_result := coalesce(v_result, '');
    reset role;
  exception when others then
    v_result := 'error:' || sqlstate;
  end;
  perform set_config('request.jwt.claims', '', true);
  return v_result;
end;
$$;
-- the access-token hook's claims for a user, run as Supabase Auth runs it
create function eg_tests.token_claims(p_user uuid) returns jsonb
language plpgsql as $$
declare v jsonb;
begin
  set local role supabase_auth_admin;
  v := public.custom_access_token_hook(jsonb_build_object(
    'user_id', p_user, 'authentication_method', 'password',
    'claims', jsonb_build_object('sub', p_user, 'role', 'authenticated', 'aud', 'authenticated',
                                 'is_anonymous', false, 'app_metadata', '{}'::jsonb)));
  reset role;
  return v -> 'claims';
end;
$$;

-- ids of the invitations created along the way
create temp table inv (name text primary key, id uuid);
-- a role above admin, to show that nobody offers more than they hold
insert into public.roles (name, rank) values ('owner', 60);
-- a user whose address Supabase Auth has not confirmed
insert into auth.users (id, email) values ('dddddddd-0000-4000-8000-000000000002', 'unconfirmed@example.test');

select plan(58);

-- the shape -------------------------------------------------------------------
select has_table('public', 'tenant_invitations', 'tenant_invitations exists');
select col_isnt_fk('public', 'tenant_invitations', 'invitee_user_id',
  'invitee_user_id is no foreign key (an unknown id must fail nowhere)');
select ok(not has_table_privilege('authenticated', 'public.tenant_members', 'insert'),
  'authenticated holds no insert on tenant_members');

-- nobody inserts members directly any more -------------------------------------
select is(eg_tests.try('admin', $$insert into public.tenant_members (tenant_id, user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'customer')$$),
  'error:42501', 'a tenant admin cannot insert a member directly');
select is(eg_tests.try('admin', $$insert into public.tenant_members (tenant_id, user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'dddddddd-0000-4000-8000-00000000ffff', 'customer')$$),
  'error:42501', 'nor a uuid that is no user: the same refusal, no foreign-key error (no oracle)');

-- inviting -------------------------------------------------------------------------
insert into inv values ('by_id', eg_tests.act('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'moderator') returning id$$)::uuid);
select isnt((select id from inv where name = 'by_id'), null, 'a tenant admin invites a user by id');
insert into inv values ('by_email', eg_tests.act('admin', $$insert into public.tenant_invitations (tenant_id, invitee_email, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', ' Outsider@No-Tenant.TEST ', 'provider') returning id$$)::uuid);
select isnt((select id from inv where name = 'by_email'), null, 'a tenant admin invites a user by email');
select results_eq(
  $$select invitee_email, invited_by, status, expires_at - created_at from public.tenant_invitations
    where id = (select id from inv where name = 'by_email')$$,
  $$values ('outsider@no-tenant.test', 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'pending', interval '7 days')$$,
  'the address is stored trimmed and lower-case; the inviter is the caller; pending for 7 days');

select is(eg_tests.try('member', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest')$$),
  'error:42501', 'a member who is not an admin cannot invite');
select is(eg_tests.try('other', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest')$$),
  'error:42501', 'another tenant''s admin cannot invite into tenant A');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'owner')$$),
  'error:42501', 'an admin cannot offer a role above their own');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'admin')$$),
  'ok:1', 'an admin may offer their own role');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role, invited_by)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest', 'aaaaaaaa-0000-4000-8000-000000000003')$$),
  'error:42501', 'the inviter cannot be forged');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role, status, accepted_at)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest', 'accepted', now())$$),
  'error:42501', 'an invitation cannot be created already accepted');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, invitee_email, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'x@example.test', 'guest')$$),
  'error:23514', 'an invitation names the invitee once: by id or by email');
select is(eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role, expires_at)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'guest', now() + interval '31 days')$$),
  'error:23514', 'an invitation lives at most 30 days');

-- the oracle is closed: unknown ids and addresses behave exactly like known ones
select is(array[
    eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
      values ('aaaaaaaa-0000-4000-8000-000000000000', 'dddddddd-0000-4000-8000-00000000ffff', 'customer') returning role, status$$),
    eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
      values ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000004', 'customer') returning role, status$$)],
  array['ok:1', 'ok:1'], 'inviting an unknown user id answers exactly like inviting a known one');
select is(array[
    eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_email, role)
      values ('aaaaaaaa-0000-4000-8000-000000000000', 'nobody-at-all@example.test', 'customer') returning role, status$$),
    eg_tests.try('admin', $$insert into public.tenant_invitations (tenant_id, invitee_email, role)
      values ('aaaaaaaa-0000-4000-8000-000000000000', 'customer@tenant-b.test', 'customer') returning role, status$$)],
  array['ok:1', 'ok:1'], 'inviting an unknown address answers exactly like inviting a known one');

-- who sees an invitation ---------------------------------------------------------
create temp table seen as
  select i.name, eg_tests.try(a.actor, format('select 1 from public.tenant_invitations where id = %L', i.id)) as result, a.actor
  from inv i cross join (values ('outsider'), ('admin'), ('member'), ('provider'), ('other'), ('anon')) a (actor);
select is((select result from seen where name = 'by_id' and actor = 'outsider'), 'ok:1', 'the invitee sees an invitation by id');
select is((select result from seen where name = 'by_email' and actor = 'outsider'), 'ok:1', 'the invitee sees an invitation by email');
select is((select result from seen where name = 'by_id' and actor = 'admin'), 'ok:1', 'the tenant''s admin sees it');
select is((select array_agg(result order by actor) from seen where name = 'by_id' and actor in ('member', 'provider', 'other')),
  array['ok:0', 'ok:0', 'ok:0'], 'members who are not admins and other tenants'' admins do not');
select is((select result from seen where name = 'by_id' and actor = 'anon'), 'error:42501', 'anon does not');
insert into public.tenant_invitations (tenant_id, invitee_email, role, invited_by)
values ('aaaaaaaa-0000-4000-8000-000000000000', 'unconfirmed@example.test', 'customer', 'aaaaaaaa-0000-4000-8000-000000000001')
returning id as unconfirmed_id \gset
select is(eg_tests.act('dddddddd-0000-4000-8000-000000000002', format('select count(*) from public.tenant_invitations where id = %L', :'unconfirmed_id')),
  '0', 'an address Supabase Auth has not confirmed sees no invitation to it');
select is(eg_tests.act('dddddddd-0000-4000-8000-000000000002', format('select role from public.accept_tenant_invitation(%L)', :'unconfirmed_id')),
  'error:P0002', 'and cannot accept it');

-- the invitee's profile stays hidden until they accept
select is(eg_tests.try('admin', $$select 1 from public.profiles where id = 'cccccccc-0000-4000-8000-000000000001'$$),
  'ok:0', 'before acceptance the tenant''s admin does not see the invitee''s profile');
select is(eg_tests.try('admin', $$select 1 from public.tenant_members where user_id = 'cccccccc-0000-4000-8000-000000000001'$$),
  'ok:0', 'nor any membership of theirs');

-- only the functions change an invitation
select is(eg_tests.try('outsider', format('update public.tenant_invitations set status = %L, accepted_at = now() where id = %L',
  'accepted', (select id from inv where name = 'by_id'))), 'error:42501', 'the invitee cannot mark an invitation accepted by hand');
select is(eg_tests.try('admin', format('delete from public.tenant_invitations where id = %L', (select id from inv where name = 'by_id'))),
  'error:42501', 'an admin cannot delete an invitation (revoking keeps the record)');

-- accepting -----------------------------------------------------------------------
select is(eg_tests.act('provider', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'by_id'))),
  'error:P0002', 'another user cannot accept someone else''s invitation');
select is(eg_tests.act('admin', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'by_id'))),
  'error:P0002', 'not even the admin who sent it');
select is(eg_tests.act('outsider', format('select role from public.accept_tenant_invitation(%L)', gen_random_uuid())),
  'error:P0002', 'an unknown id gives the same answer');
select is(eg_tests.act('outsider', format('select tenant_id || %L || role from public.accept_tenant_invitation(%L)', ' ', (select id from inv where name = 'by_id'))),
  'aaaaaaaa-0000-4000-8000-000000000000 moderator', 'the invitee accepts: tenant and offered role');
select is((select role from public.tenant_members where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'cccccccc-0000-4000-8000-000000000001'),
  'moderator', 'a membership with the offered role exists');
select results_eq(
  $$select status, accepted_by, accepted_at is not null from public.tenant_invitations where id = (select id from inv where name = 'by_id')$$,
  $$values ('accepted', 'cccccccc-0000-4000-8000-000000000001'::uuid, true)$$, 'the invitation is marked accepted by the invitee');
select is((select eg_tests.token_claims('cccccccc-0000-4000-8000-000000000001') ->> 'tenant_id'),
  'aaaaaaaa-0000-4000-8000-000000000000', 'the next access token carries the tenant');
select is((select eg_tests.token_claims('cccccccc-0000-4000-8000-000000000001') ->> 'user_role'),
  'moderator', 'with the offered role');
select is(eg_tests.try('admin', $$select 1 from public.profiles where id = 'cccccccc-0000-4000-8000-000000000001'$$),
  'ok:1', 'after acceptance the tenant sees the new member''s profile');
select is(eg_tests.act('outsider', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'by_id'))),
  'error:P0002', 'a second accept fails');
select is(eg_tests.act('outsider', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'by_email'))),
  'error:23505', 'a member accepting another invitation to the same tenant is refused');
select results_eq(
  $$select a.actor_id, a.db_role, a.new_record ->> 'role' from public.audit_logs a
    where a.table_name = 'tenant_members' and a.operation = 'INSERT' and a.row_pk ->> 'user_id' = 'cccccccc-0000-4000-8000-000000000001'$$,
  $$values ('cccccccc-0000-4000-8000-000000000001'::uuid, 'authenticated', 'moderator')$$,
  'the new membership is audited with the invitee as actor');
select results_eq(
  $$select a.operation, a.actor_id, a.tenant_id from public.audit_logs a
    where a.table_name = 'tenant_invitations' and a.row_pk ->> 'id' = (select id::text from inv where name = 'by_id') order by a.id$$,
  $$values ('INSERT', 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'aaaaaaaa-0000-4000-8000-000000000000'::uuid),
           ('UPDATE', 'cccccccc-0000-4000-8000-000000000001'::uuid, 'aaaaaaaa-0000-4000-8000-000000000000'::uuid)$$,
  'invitations are audited in the tenant''s chain: the admin invited, the invitee accepted');

-- declining -------------------------------------------------------------------------
select is(eg_tests.act('admin', format('select public.decline_tenant_invitation(%L)', (select id from inv where name = 'by_email'))),
  'error:P0002', 'only the invitee declines');
select is(eg_tests.act('outsider', format('select public.decline_tenant_invitation(%L)', (select id from inv where name = 'by_email'))),
  '', 'the invitee declines');
select results_eq($$select status, declined_at is not null from public.tenant_invitations where id = (select id from inv where name = 'by_email')$$,
  $$values ('declined', true)$$, 'the invitation is marked declined');
select is(eg_tests.act('outsider', format('select public.decline_tenant_invitation(%L)', (select id from inv where name = 'by_email'))),
  'error:P0002', 'a decision is final');

-- revoking (invitations for tenant B's customer) -------------------------------------
insert into inv values ('to_revoke', eg_tests.act('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000004', 'customer') returning id$$)::uuid);
select is(eg_tests.act('member', format('select public.revoke_tenant_invitation(%L)', (select id from inv where name = 'to_revoke'))),
  'error:P0002', 'a member who is not an admin cannot revoke');
select is(eg_tests.act('other', format('select public.revoke_tenant_invitation(%L)', (select id from inv where name = 'to_revoke'))),
  'error:P0002', 'nor another tenant''s admin');
select is(eg_tests.act('admin', format('select public.revoke_tenant_invitation(%L)', (select id from inv where name = 'to_revoke'))),
  '', 'the tenant''s admin revokes');
select is(eg_tests.act('bbbbbbbb-0000-4000-8000-000000000004', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'to_revoke'))),
  'error:P0002', 'a revoked invitation cannot be accepted');

-- expiry, and an inviter who is no longer an admin -------------------------------------
insert into public.tenant_invitations (tenant_id, invitee_user_id, role, invited_by, created_at, expires_at)
values ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000004', 'customer',
        'aaaaaaaa-0000-4000-8000-000000000001', now() - interval '8 days', now() - interval '1 day')
returning id as expired_id \gset
select is(eg_tests.act('bbbbbbbb-0000-4000-8000-000000000004', format('select role from public.accept_tenant_invitation(%L)', :'expired_id')),
  'error:P0002', 'an expired invitation cannot be accepted');
insert into inv values ('demoted', eg_tests.act('admin', $$insert into public.tenant_invitations (tenant_id, invitee_user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000004', 'customer') returning id$$)::uuid);
update public.tenant_members set role = 'moderator'
where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000001';
select is(eg_tests.act('bbbbbbbb-0000-4000-8000-000000000004', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'demoted'))),
  'error:P0002', 'an invitation dies when its inviter stops being an admin');
update public.tenant_members set role = 'admin'
where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000001';
select is(eg_tests.act('bbbbbbbb-0000-4000-8000-000000000004', format('select role from public.accept_tenant_invitation(%L)', (select id from inv where name = 'demoted'))),
  'customer', '(the same invitation, its inviter an admin again, is accepted: the refusals above were about expiry and the inviter)');
select is((select count(*)::int from public.tenant_members where user_id = 'bbbbbbbb-0000-4000-8000-000000000004'), 2,
  'tenant B''s customer is now in both tenants, through their own acceptance only');

-- a decision is final for everyone, and account deletion still works
select throws_ok(format('update public.tenant_invitations set status = %L, declined_at = now(), accepted_at = null where id = %L',
  'declined', (select id from inv where name = 'by_id')), '42501', null, 'not even the superuser re-decides an invitation');
delete from auth.users where id = 'cccccccc-0000-4000-8000-000000000001';
select results_eq($$select status, accepted_by from public.tenant_invitations where id = (select id from inv where name = 'by_id')$$,
  $$values ('accepted', null::uuid)$$, 'deleting the account of an invitee who accepted keeps the record, without them');
select is((select count(*)::int from public.tenant_members where user_id = 'cccccccc-0000-4000-8000-000000000001'), 0,
  'and their membership goes with the account');

-- the RPCs
select ok(not has_function_privilege('anon', 'public.accept_tenant_invitation(uuid)', 'execute')
          and not has_function_privilege('anon', 'public.decline_tenant_invitation(uuid)', 'execute')
          and not has_function_privilege('anon', 'public.revoke_tenant_invitation(uuid)', 'execute'),
  'anon executes none of the invitation RPCs');

select * from finish();
rollback;
