-- pgTAP: API keys end to end in SQL (migration 20261202000500): the scope
-- ceiling, verification (uses, refill, rate limit, expiry, revocation, owner
-- removed, pepper rotation), revocation and rotation by whom, and what is audited.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- customer of tenant A (…0004): services:read, orders:write, public:read
create function pg_temp.h(p text) returns text language sql as $$ select encode(sha256(p::bytea), 'hex') $$;
create function pg_temp.mk(p_id uuid, p_label text, p_scopes text[] default '{services:read}') returns void language sql as $$
  insert into public.api_keys (id, tenant_id, user_id, name, prefix, key_hash, scopes, created_by)
  values (p_id, 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', p_label,
          'egk_test_' || p_label, pg_temp.h(p_label), p_scopes, 'aaaaaaaa-0000-4000-8000-000000000004')
$$;
create function pg_temp.st(p_label text, p_now timestamptz default now()) returns text language sql as $$
  select status from private.api_key_verify(pg_temp.h(p_label), null, p_now)
$$;

select plan(42);

-- the scope ceiling, in SQL too ---------------------------------------------------
select lives_ok($$select pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b001', 'within', '{services:read,orders:write}')$$,
  'a key within the owner''s permissions is stored');
select throws_ok($$select pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b002', 'above', '{users:write}')$$,
  '42501', 'api_keys: a scope exceeds the owner''s permissions', 'a scope above the owner''s role is refused, even to the superuser');
select throws_ok($$select pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b003', 'wild', '{orders:*}')$$,
  '42501', null, 'a wildcard scope needs a wildcard permission');
select is(eg_tests.try('service', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'svc', 'egk_test_svc00001', repeat('1', 64), '{audit:read}')$$),
  'error:42501', 'the service cannot exceed the ceiling either');
select is(eg_tests.try('service', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
  values ('bbbbbbbb-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'svc', 'egk_test_svc00002', repeat('2', 64), '{}')$$),
  'error:42501', 'nor give a user a key in a tenant they are not a member of');
select is(eg_tests.try('service', $$update public.api_keys set scopes = '{users:write}' where id = 'aaaaaaaa-0000-4000-8000-00000000b001'$$),
  'error:42501', 'nor widen a key beyond the ceiling later');
select ok(private.scopes_within('{users:read}', '{users:*}') and not private.scopes_within('{users:*}', '{users:read}')
          and private.scopes_within('{}', '{}') and not private.scopes_within('{user:read}', '{users:*}'),
  'scopes_within: resource:* covers actions, never the other way round');
select is(private.role_permissions_of('moderator'),
  '{content:moderate,orders:write,public:read,services:read,services:write,users:read}', 'a role holds the permissions below it');

-- verification -------------------------------------------------------------------
select is((select status || ' ' || user_role || ' ' || permissions::text || ' ' || counted::text
           from private.api_key_verify(pg_temp.h('within'))),
  'ok customer {orders:write,public:read,services:read} false', 'ok: the owner''s current role and its permissions; not counted');
select is((select to_jsonb(v) - 'status' from private.api_key_verify(repeat('0', 64)) v),
  '{"key_id": null, "scopes": [], "counted": false, "user_id": null, "tenant_id": null, "user_role": null, "expires_at": null, "permissions": [], "retry_after_s": null}'::jsonb,
  'unknown: nothing about any key');
update public.tenant_members set role = 'admin'
  where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000004';
select is((select user_role from private.api_key_verify(pg_temp.h('within'))), 'admin', 'the owner''s role is read at each verification');
update public.tenant_members set role = 'customer'
  where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000004';

-- last use batched: at most one write a minute
update public.api_keys set last_used_at = now() - interval '30 seconds' where id = 'aaaaaaaa-0000-4000-8000-00000000b001';
do $$ begin perform pg_temp.st('within'); end $$;
select is((select last_used_at from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b001'), now() - interval '30 seconds',
  'last_used_at is not rewritten within a minute');
do $$ begin perform pg_temp.st('within', now() + interval '2 minutes'); end $$;
select is((select last_used_at from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b001'), now() + interval '2 minutes',
  'and is after a minute');

-- counted uses
do $$ begin perform pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b010', 'uses2'); end $$;
update public.api_keys set uses_remaining = 2 where id = 'aaaaaaaa-0000-4000-8000-00000000b010';
select is((select status || ' ' || counted::text from private.api_key_verify(pg_temp.h('uses2'))), 'ok true', 'a counted key says so');
select is(pg_temp.st('uses2'), 'ok', 'second use');
select is(pg_temp.st('uses2'), 'exhausted', 'third use: exhausted');
select is((select uses_remaining from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b010'), 0, 'uses never go below 0');

-- refill: back to the amount once per interval
do $$ begin perform pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b011', 'refill'); end $$;
update public.api_keys set uses_remaining = 1, refill_amount = 2, refill_interval_s = 60, refilled_at = now()
  where id = 'aaaaaaaa-0000-4000-8000-00000000b011';
select is(pg_temp.st('refill') || ' ' || pg_temp.st('refill'), 'ok exhausted', 'one use, then exhausted');
select is(pg_temp.st('refill', now() + interval '61 seconds'), 'ok', 'after the interval the uses are refilled');
select is((select uses_remaining from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b011'), 1,
  'refilled to the amount, minus the use');
select is(pg_temp.st('refill', now() + interval '62 seconds') || ' ' || pg_temp.st('refill', now() + interval '63 seconds'),
  'ok exhausted', 'no second refill within the interval');

-- per-key rate limit
do $$ begin perform pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b012', 'limited'); end $$;
update public.api_keys set rate_limit = 2, rate_limit_window_s = 10 where id = 'aaaaaaaa-0000-4000-8000-00000000b012';
select is(pg_temp.st('limited') || ' ' || pg_temp.st('limited'), 'ok ok', 'two requests in the window');
select is((select status || ' ' || retry_after_s from private.api_key_verify(pg_temp.h('limited'))), 'rate_limited 10',
  'the third is rate limited, with the seconds until the window ends');
select is(pg_temp.st('limited', now() + interval '10 seconds'), 'ok', 'a new window admits again');

-- expiry, revocation, owner removed
do $$ begin perform pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b013', 'expiring'); end $$;
update public.api_keys set expires_at = now() + interval '5 seconds' where id = 'aaaaaaaa-0000-4000-8000-00000000b013';
select is(pg_temp.st('expiring') || ' ' || pg_temp.st('expiring', now() + interval '5 seconds'), 'ok expired', 'expired at expires_at');
do $$ begin perform pg_temp.mk('aaaaaaaa-0000-4000-8000-00000000b014', 'removed', '{}'); end $$;
delete from public.tenant_members where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000004';
select is(pg_temp.st('removed'), 'owner_removed', 'a key whose owner left the tenant is refused');
insert into public.tenant_members (tenant_id, user_id, role)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'customer');

-- SECRET_KEY rotation: a key found by the previous pepper's hash is re-hashed
select is((select status from private.api_key_verify(repeat('e', 64), pg_temp.h('within'))), 'ok', 'found by the previous hash');
select is((select key_hash from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b001'), repeat('e', 64),
  'and re-hashed under the current pepper');
select throws_ok($$update public.api_keys set key_hash = repeat('f', 64) where id = 'aaaaaaaa-0000-4000-8000-00000000b001'$$,
  '42501', null, 'key_hash stays immutable outside verification');

-- revocation: owner or tenant admin, never someone else -----------------------------
select is(private.api_key_revoke('aaaaaaaa-0000-4000-8000-00000000b010', 'aaaaaaaa-0000-4000-8000-000000000003'), false,
  'another member of the tenant cannot revoke (and learns nothing)');
select is(private.api_key_revoke('aaaaaaaa-0000-4000-8000-00000000b010', 'bbbbbbbb-0000-4000-8000-000000000001'), false,
  'nor another tenant''s admin');
select is(private.api_key_revoke('aaaaaaaa-0000-4000-8000-00000000b010', 'aaaaaaaa-0000-4000-8000-000000000001'), true,
  'the tenant admin can');
select is((select revoked_by from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000b010'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'revoked_by records who');
select is(private.api_key_revoke('aaaaaaaa-0000-4000-8000-00000000b011', 'aaaaaaaa-0000-4000-8000-000000000004')
          and pg_temp.st('refill', now() + interval '1 hour') = 'revoked', true, 'the owner can; the key is refused as revoked');

-- rotation: owner only, old key valid for the overlap --------------------------------
select is(private.api_key_rotate('aaaaaaaa-0000-4000-8000-00000000b012', 'aaaaaaaa-0000-4000-8000-000000000001',
  'egk_test_rotated1', repeat('7', 64), 3600), null, 'a tenant admin cannot rotate another''s key (the plaintext would be theirs)');
create temp table rotated as
  select private.api_key_rotate('aaaaaaaa-0000-4000-8000-00000000b012', 'aaaaaaaa-0000-4000-8000-000000000004',
    'egk_test_rotated2', repeat('8', 64), 60) as id;
select is((select name || ' ' || scopes::text || ' ' || rate_limit || ' ' || rotated_from from public.api_keys where id = (select id from rotated)),
  'limited {services:read} 2 aaaaaaaa-0000-4000-8000-00000000b012', 'the new key inherits name, scopes and limits');
select is((select status from private.api_key_verify(repeat('8', 64))) || ' ' || pg_temp.st('limited', now() + interval '30 seconds')
          || ' ' || pg_temp.st('limited', now() + interval '61 seconds'),
  'ok ok expired', 'both work in the overlap; the old one expires after it');
select throws_ok($$select private.api_key_rotate('aaaaaaaa-0000-4000-8000-00000000b001', 'aaaaaaaa-0000-4000-8000-000000000004',
  'egk_test_rotated3', repeat('9', 64), 604801)$$, '22023', null, 'the overlap is at most 7 days');

-- audit: changes are logged, verification is not -------------------------------------
select is((select count(*)::int from public.audit_logs where table_name = 'api_keys'
           and row_pk ->> 'id' in ('aaaaaaaa-0000-4000-8000-00000000b010', 'aaaaaaaa-0000-4000-8000-00000000b011')
           and operation = 'UPDATE' and new_record ->> 'revoked_at' is not null and old_record ->> 'revoked_at' is null),
  2, 'each revocation is audited');
select is((select count(*)::int from public.audit_logs where table_name = 'api_keys'
           and row_pk ->> 'id' = 'aaaaaaaa-0000-4000-8000-00000000b012' and operation = 'UPDATE'), 2,
  'the limited key: two audited changes (limits set, rotation shortening it), none for its verifications');

-- only the service runs these
select is(eg_tests.try('member', $$select private.api_key_revoke('aaaaaaaa-0000-4000-8000-00000000b001', 'aaaaaaaa-0000-4000-8000-000000000004')$$),
  'error:42501', 'clients cannot call revoke');
select is(eg_tests.try('member', $$select private.api_key_rotate('aaaaaaaa-0000-4000-8000-00000000b001', 'aaaaaaaa-0000-4000-8000-000000000004', 'egk_test_x1234567', repeat('3', 64), 0)$$),
  'error:42501', 'nor rotate');

select * from finish();
rollback;
