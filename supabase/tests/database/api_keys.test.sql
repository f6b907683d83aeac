-- pgTAP: API keys (only a keyed hash stored, rows written by the service only,
-- never by clients; revocation final, lookup by hash).
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).
insert into public.api_keys (id, tenant_id, user_id, name, prefix, key_hash, scopes, expires_at)
values
  ('aaaaaaaa-0000-4000-8000-00000000a001', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004',
   'live', 'egk_live0001', encode(sha256('live'::bytea), 'hex'), '{services:read}', null),
  ('aaaaaaaa-0000-4000-8000-00000000a002', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004',
   'expired', 'egk_expd0001', encode(sha256('expired'::bytea), 'hex'), '{}', now() + interval '1 second'),
  ('aaaaaaaa-0000-4000-8000-00000000a003', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004',
   'revoked', 'egk_revk0001', encode(sha256('revoked'::bytea), 'hex'), '{}', null);
update public.api_keys set revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a003';

select plan(32);

-- storage
select hasnt_column('public', 'api_keys', 'key', 'no plaintext key column');
select col_is_unique('public', 'api_keys', 'key_hash', 'key_hash is unique');
select col_is_unique('public', 'api_keys', 'prefix', 'prefix is unique');
select throws_ok($$insert into public.api_keys (user_id, name, prefix, key_hash) values
  ('aaaaaaaa-0000-4000-8000-000000000004', 'x', 'egk_plain001', 'egk_plain001_this_is_not_a_hash')$$,
  '23514', null, 'key_hash must be a 64-hex-digit keyed hash, not a key');
select throws_ok($$insert into public.api_keys (user_id, name, prefix, key_hash, scopes) values
  ('aaaaaaaa-0000-4000-8000-000000000004', 'x', 'egk_scope001', repeat('c', 64), '{"not a scope"}')$$,
  '23514', null, 'scopes must be resource:action');

-- clients never read key_hash
select is(eg_tests.try('member', $$select key_hash from public.api_keys$$), 'error:42501', 'the owner cannot read key_hash');
select is(eg_tests.try('admin', $$select key_hash from public.api_keys$$), 'error:42501', 'a tenant admin cannot read key_hash');
select is(eg_tests.try('member', $$select id, prefix, name, scopes from public.api_keys$$), 'ok:3', 'the owner lists own keys');
select is(eg_tests.try('provider', $$select id from public.api_keys$$), 'ok:0', 'another member of the tenant sees none of them');

-- clients never write rows: the service creates keys with the keyed hash it computed
select ok(not has_table_privilege('authenticated', 'public.api_keys', 'INSERT, UPDATE, DELETE')
          and not has_any_column_privilege('authenticated', 'public.api_keys', 'INSERT, UPDATE'),
  'authenticated holds no insert, update or delete on api_keys, on no column');
select ok(not has_table_privilege('anon', 'public.api_keys', 'SELECT, INSERT, UPDATE, DELETE')
          and not has_any_column_privilege('anon', 'public.api_keys', 'SELECT, INSERT, UPDATE'),
  'anon holds nothing on api_keys');
select is(eg_tests.try('member', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'mine', 'egk_forgd001', repeat('d', 64), '{services:write}')$$),
  'error:42501', 'a member cannot insert an own key with a key_hash and scopes of their choosing');
select is(eg_tests.try('outsider', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash)
  values (null, 'cccccccc-0000-4000-8000-000000000001', 'mine', 'egk_outs0001', repeat('e', 64))$$),
  'error:42501', 'nor a user without a tenant a tenant-less key');
select is(eg_tests.try('admin', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000001', 'mine', 'egk_admin001', repeat('f', 64))$$),
  'error:42501', 'nor a tenant admin');
select is(eg_tests.try('service', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004', 'by service', 'egk_serv0001', repeat('9', 64), '{services:read}')$$),
  'ok:1', 'the service creates keys');

-- what may change, and by whom
select is(eg_tests.try('member', $$update public.api_keys set scopes = '{services:write,users:write}' where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'the owner cannot widen a key''s scopes');
select is(eg_tests.try('admin', $$update public.api_keys set scopes = '{}' where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'nor can a tenant admin change them');
select is(eg_tests.try('member', $$update public.api_keys set key_hash = repeat('f', 64) where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'key_hash cannot be changed by the owner');
select is(eg_tests.try('member', $$update public.api_keys set user_id = 'aaaaaaaa-0000-4000-8000-000000000003' where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'the owner cannot be changed');
select is(eg_tests.try('member', $$update public.api_keys set name = 'renamed', revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'renaming and revoking go through the service too');
select is(eg_tests.try('member', $$delete from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'error:42501', 'nobody deletes a key as a client');
select is(eg_tests.try('service', $$update public.api_keys set name = 'renamed', revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$),
  'ok:1', 'the service renames and revokes');
select is(eg_tests.try('service', $$update public.api_keys set revoked_at = null where id = 'aaaaaaaa-0000-4000-8000-00000000a003'$$),
  'error:42501', 'a revoked key cannot be un-revoked by the service');
select throws_ok($$update public.api_keys set revoked_at = null where id = 'aaaaaaaa-0000-4000-8000-00000000a003'$$,
  '42501', null, 'nor by the superuser');
select throws_ok($$update public.api_keys set key_hash = repeat('f', 64) where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$,
  '42501', null, 'key_hash is immutable for everyone');
select is((select key_hash || ' ' || scopes::text from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000a001'),
  encode(sha256('live'::bytea), 'hex') || ' {services:read}', 'after all that, the key''s hash and scopes are what the service wrote');

-- lookup by keyed hash (service only; more in api_keys_lifecycle.test.sql)
select is((select status || ' ' || user_id || ' ' || user_role || ' ' || scopes::text
           from private.api_key_verify(encode(sha256('live'::bytea), 'hex'))),
  'ok aaaaaaaa-0000-4000-8000-000000000004 customer {services:read}', 'a live key resolves to its owner, role and scopes');
select is((select status from private.api_key_verify(encode(sha256('expired'::bytea), 'hex'), null, now() + interval '1 minute')),
  'expired', 'an expired key is refused as expired');
select is((select status from private.api_key_verify(encode(sha256('revoked'::bytea), 'hex'))),
  'revoked', 'a revoked key is refused as revoked');
select is((select status || coalesce(key_id::text, '-') from private.api_key_verify('not-a-hash')), 'unknown-',
  'garbage is unknown, with no id');
select isnt((select last_used_at from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000a001'), null,
  'a lookup records last_used_at');
select is(eg_tests.try('member', $$select * from private.api_key_verify(repeat('a', 64))$$), 'error:42501',
  'clients cannot call the lookup');

select * from finish();
rollback;
