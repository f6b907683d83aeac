-- pgTAP: account export and erasure with a redactable audit chain
-- (docs/privacy.md; migration 20261202000600_account_privacy.sql). New audit
-- rows commit to their personal fields through a salted digest; redaction
-- nulls the fields and keeps the hash; the only UPDATE audit_logs admits is
-- such a redaction; private.account_export returns every row about a user;
-- private.erase_user deletes, redacts, records, and the chains still verify.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(49);

-- The member of tenant A (customer) is the data subject throughout.
\set member '''aaaaaaaa-0000-4000-8000-000000000004'''
\set A '''aaaaaaaa-0000-4000-8000-000000000000'''

-- Fixtures: the member edits their profile (as themselves, with IP and user
-- agent), the admin changes the member's role, the service issues the member
-- an API key, and a security event names the member.
\o /dev/null
select set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('member') a), true);
select set_config('edgeguard.client_ip', '203.0.113.77', true);
select set_config('edgeguard.user_agent', 'member-browser/1.0', true);
set local role authenticated;
update public.profiles set display_name = 'Carla Member' where id = :member;
reset role;
select set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('admin') a), true);
select set_config('edgeguard.client_ip', '198.51.100.9', true);
select set_config('edgeguard.user_agent', 'admin-browser/2.0', true);
set local role authenticated;
update public.tenant_members set role = 'provider' where tenant_id = :A and user_id = :member;
reset role;
select set_config('request.jwt.claims', '', true);
select set_config('edgeguard.client_ip', '', true);
select set_config('edgeguard.user_agent', '', true);
insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
values (:A, :member, 'laptop', 'egk_privacy1', repeat('ab', 32), '{}');
insert into public.security_events (event_type, severity, tenant_id, actor_id, ip, details)
values ('auth.denied', 'warning', :A, :member, '203.0.113.77', '{"route": "GET /me"}');

-- A format-1 row (as every row written before the migration is), in a chain
-- of its own, mentioning the member: what erasure has to leave alone.
alter table public.audit_logs disable trigger user;
insert into public.audit_logs (chain_id, seq, tenant_id, table_schema, table_name, operation, new_record,
                               db_role, hash, row_format)
values ('eeeeeeee-0000-4000-8000-000000000000', 1, 'eeeeeeee-0000-4000-8000-000000000000', 'event', 'legacy.row',
        'EVENT', jsonb_build_object('user_id', :member), 'postgres', repeat('0', 64), 1);
update public.audit_logs a set hash = private.audit_row_hash(a) where a.chain_id = 'eeeeeeee-0000-4000-8000-000000000000';
insert into private.audit_chain_heads (chain_id, seq, hash)
select chain_id, seq, hash from public.audit_logs where chain_id = 'eeeeeeee-0000-4000-8000-000000000000';
alter table public.audit_logs enable trigger user;
\o

-- 1. Format 2: a salted commitment instead of the personal fields ------------
select is((select count(*)::int from public.audit_logs where row_format = 2 and (personal_salt is null or personal_sha256 is null)),
  0, 'every format-2 row has a salt and a commitment');
select is((select row_format from public.audit_logs where chain_id = 'eeeeeeee-0000-4000-8000-000000000000'),
  1::smallint, 'a row written before the migration is format 1');
select is((select valid from public.verify_audit_chain('eeeeeeee-0000-4000-8000-000000000000')), true,
  'format-1 rows verify as before');
create temp table profile_row as
  select id, hash, personal_sha256 from public.audit_logs where table_name = 'profiles' and operation = 'UPDATE' and actor_id = :member
  order by id desc limit 1;
create temp view pr as select a from public.audit_logs a where a.id = (select id from profile_row);
select is((select (a).row_format from pr), 2::smallint, 'a new row is format 2');
select is((select octet_length((a).personal_salt) from pr), 32, 'its salt is 32 bytes');
select is((select personal_sha256 from profile_row),
  (select encode(sha256((a).personal_salt || convert_to(jsonb_build_array((a).old_record, (a).new_record, (a).actor_claims,
           host((a).client_ip), (a).user_agent)::text, 'UTF8')), 'hex') from pr),
  'the commitment is sha256(salt || the personal fields as JSON)');
select ok((select position('Carla' in private.audit_row_canonical(a)) = 0
               and position('203.0.113.77' in private.audit_row_canonical(a)) = 0
               and position('customer@tenant-a.test' in private.audit_row_canonical(a)) = 0 from pr),
  'the canonical text carries no personal field');
select ok((select position((a).personal_sha256 in private.audit_row_canonical(a)) > 0 from pr),
  'the canonical text carries the commitment');
select ok((select private.audit_row_canonical(a) like format('["%s", %s, "%s", %%', (a).chain_id, (a).seq, (a).prev_hash) from pr),
  'the canonical text begins with chain, seq and prev_hash (what edgeguard audit verify checks)');
select is((select private.audit_row_hash(a) = (a).hash from pr), true, 'the stored hash is the hash of that text');
select isnt((select private.audit_row_hash(jsonb_populate_record(a, '{"user_agent": "forged"}')) from pr),
  (select hash from profile_row), 'a changed personal field changes the hash (the commitment is recomputed from the fields)');

-- 2. The only UPDATE admitted is a redaction ----------------------------------
select throws_ok(format($$update public.audit_logs set user_agent = 'x' where id = %s$$, (select id from profile_row)),
  '42501', null, 'the owner cannot edit a personal field');
select throws_ok(format($$update public.audit_logs set redacted_at = now() where id = %s$$, (select id from profile_row)),
  '42501', null, 'marking a row redacted without emptying it is refused');
select throws_ok(format($$update public.audit_logs set old_record = null, new_record = null, actor_claims = null,
      client_ip = null, user_agent = null, personal_salt = null, redacted_at = now(), request_id = 'moved' where id = %s$$,
    (select id from profile_row)),
  '42501', null, 'a redaction that also changes another column is refused');
select throws_ok(format($$update public.audit_logs set old_record = null, new_record = null, actor_claims = null,
      client_ip = null, user_agent = null, personal_salt = null, redacted_at = now(), personal_sha256 = repeat('0', 64) where id = %s$$,
    (select id from profile_row)),
  '42501', null, 'a redaction that replaces the commitment is refused');
select throws_ok(format($$update public.audit_logs set old_record = null, new_record = null, actor_claims = null,
      client_ip = null, user_agent = null, redacted_at = now() where id = %s$$,
    (select id from public.audit_logs where row_format = 1 order by id limit 1)),
  '42501', null, 'a format-1 row cannot be redacted (its hash covers the fields)');
select is((select count(*)::int from private.audit_redact_rows(array(select id from public.audit_logs where row_format = 1))),
  0, 'audit_redact_rows skips format-1 rows');
select throws_ok(format($$delete from public.audit_logs where id = %s$$, (select id from profile_row)),
  '42501', null, 'DELETE stays refused');
select is(eg_tests.try('service', format($$select private.audit_redact_rows(array[%s::bigint])$$, (select id from profile_row))),
  'error:42501', 'service_role cannot redact directly (erase_user does)');

-- 3. Export -------------------------------------------------------------------
create temp table export as select private.account_export(:member) as doc;
select is((select doc ->> 'format' from export), 'edgeguard-account-export/v1', 'the export names its schema version');
select is((select doc -> 'user' ->> 'email' from export), 'customer@tenant-a.test', 'the auth user');
select is((select doc -> 'profile' ->> 'display_name' from export), 'Carla Member', 'the profile');
select is((select jsonb_array_length(doc -> 'memberships') from export), 1, 'the membership');
select is((select doc -> 'api_keys' -> 0 ->> 'prefix' from export), 'egk_privacy1', 'the API key');
select ok((select not (doc -> 'api_keys' -> 0 ? 'key_hash') and position(repeat('ab', 32) in doc::text) = 0 from export),
  'no key hash anywhere in the export');
select is((select jsonb_array_length(doc -> 'security_events') from export), 1, 'the security event about the member');
select is((select e ->> 'client_ip' from export, jsonb_array_elements(doc -> 'audit_log') e
           where e ->> 'table' = 'public.profiles' and e ->> 'operation' = 'UPDATE' and e ->> 'actor_id' = :member),
  '203.0.113.77', 'an audit row the member wrote, with their own IP');
select ok((select e ->> 'client_ip' is null and e -> 'actor_claims' = 'null'::jsonb and e ->> 'user_agent' is null
           from export, jsonb_array_elements(doc -> 'audit_log') e
           where e ->> 'table' = 'public.tenant_members' and e ->> 'operation' = 'UPDATE'
             and e ->> 'actor_id' = 'aaaaaaaa-0000-4000-8000-000000000001'),
  'an audit row about the member written by the admin, without the admin''s claims, IP or user agent');
select ok((select position('admin-browser' in doc::text) = 0 and position('198.51.100.9' in doc::text) = 0 from export),
  'no other person''s IP or user agent anywhere in the export');
select is(private.account_export('dddddddd-0000-4000-8000-000000000001'), null, 'no document for an unknown user');
select is(eg_tests.try('member', format('select private.account_export(%L)', :member)), 'error:42501',
  'a user cannot call account_export directly');

-- 4. Erasure ------------------------------------------------------------------
create temp table hashes_before as select id, chain_id, seq, hash from public.audit_logs;
create temp table mentions as
  select a.id from public.audit_logs a where private.audit_row_mentions(a, :member, 'customer@tenant-a.test');
select is(eg_tests.try('member', format('select private.erase_user(%L)', :member)), 'error:42501',
  'a user cannot call erase_user directly');
\o /dev/null
select set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('member') a), true);
select set_config('edgeguard.client_ip', '203.0.113.77', true);
select set_config('edgeguard.user_agent', 'member-browser/1.0', true);
\o
set local role service_role;
create temp table erased as select private.erase_user(:member) as result;
reset role;
select is((select format('%s|%s|%s|%s|%s', result ->> 'memberships', result ->> 'api_keys', result ->> 'profile',
                  result ->> 'security_events', (result ->> 'audit_rows_redacted')::int >= 5) from erased),
  '1|1|1|1|t', 'erase_user reports the membership, key, profile and event it deleted, and the audit rows it redacted');
select is((select count(*)::int from auth.users where id = :member), 0, 'the auth user is deleted');
select is((select (result ->> 'audit_rows_kept_format1')::int from erased), 1,
  'the format-1 row about the member is kept, and counted');
select ok((select new_record is not null from public.audit_logs where chain_id = 'eeeeeeee-0000-4000-8000-000000000000'),
  'the format-1 row is left as it was');
select is((select count(*)::int from public.tenant_members where user_id = :member)
        + (select count(*)::int from public.api_keys where user_id = :member)
        + (select count(*)::int from public.profiles where id = :member)
        + (select count(*)::int from public.security_events where actor_id = :member), 0,
  'no membership, key, profile or security event is left');
select is((select count(*)::int from public.audit_logs a
           where private.audit_row_mentions(a, :member, 'customer@tenant-a.test') and a.row_format = 2
             and a.redacted_at is null and a.table_name <> 'account.erased'),
  0, 'every format-2 row about the member is redacted (the deletions just written included)');
select is((select count(*)::int from public.audit_logs a join mentions m using (id)
           where a.row_format = 2 and (a.old_record is not null or a.new_record is not null or a.actor_claims is not null
                 or a.client_ip is not null or a.user_agent is not null or a.personal_salt is not null)),
  0, 'redacted rows keep no personal field and no salt');
select is((select count(*)::int from hashes_before b join public.audit_logs a using (id)
           where (a.chain_id, a.seq, a.hash) is distinct from (b.chain_id, b.seq, b.hash)),
  0, 'no existing row changed its chain position or hash');
select is((select format('%s|%s', valid::text, coalesce(reason, '-')) from public.verify_audit_chain(:A)), 'true|-',
  'tenant A''s chain verifies after the erasure');
select is((select format('%s|%s', valid::text, coalesce(reason, '-')) from public.verify_audit_chain(null)), 'true|-',
  'the global chain verifies after the erasure');
select is((select count(*)::int from jsonb_array_elements(private.audit_export() -> 'chains') c,
                 jsonb_array_elements(c -> 'rows') r
           where encode(sha256(convert_to(r ->> 'canonical', 'UTF8')), 'hex') <> r ->> 'hash'),
  0, 'the export for edgeguard audit verify still hashes to every row''s hash');
create temp table erased_event as
  select * from public.audit_logs where table_schema = 'event' and table_name = 'account.erased' order by id desc limit 1;
select is((select new_record ->> 'user_id' from erased_event), :member::text, 'an account.erased event is appended');
select is((select jsonb_array_length(new_record -> 'redacted_ids') from erased_event),
  (select (result ->> 'audit_rows_redacted')::int from erased), 'it lists every redacted row');
select is((select actor_claims from erased_event),
  jsonb_build_object('sub', :member::text, 'role', 'authenticated'),
  'its actor claims are reduced to sub and role (no e-mail)');
select is((select format('%s|%s', client_ip, user_agent) from erased_event), '|', 'it records no IP or user agent');
select is(private.account_export(:member), null, 'nothing is left to export');
select throws_ok(format('select private.erase_user(%L)', :member), 'P0002', null, 'erasing again: no such user');

select * from finish();
rollback;
