-- pgTAP: the audit log. Append-only for every role (superuser included, unless
-- it disables the triggers); the actor is the user whose claims are set, also
-- through a privileged connection; the hash chain verifier finds rows a
-- superuser edited or deleted with the triggers disabled.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).
-- Runs p_sql as the superuser with the audit_logs triggers disabled, then
-- verifies tenant p_tenant's chain; everything is undone afterwards.
create function eg_tests.tamper_then_verify(p_sql text, p_tenant uuid) returns text
language plpgsql as $$
declare
  v_result text;
begin
  begin
    alter table public.audit_logs disable trigger user;
    execute p_sql;
    alter table public.audit_logs enable trigger user;
    select format('%s|%s|%s', v.valid::text, coalesce(v.first_broken_seq::text, '-'), coalesce(v.reason, '-'))
      into v_result
    from public.verify_audit_chain(p_tenant) v;
    raise exception 'eg_tests.undo';
  exception when others then
    if v_result is null then
      v_result := 'error:' || sqlstate || ':' || sqlerrm;
    end if;
  end;
  return v_result;
end;
$$;

select plan(56);

-- 1. Append-only for every role ---------------------------------------------
select is(eg_tests.try(a.actor, format('%s public.audit_logs%s', o.verb, o.tail)), 'error:42501',
          format('audit_logs: %s refused for %s', o.op, a.actor))
from (values ('anon', 1), ('member', 2), ('admin', 3), ('service', 4)) as a (actor, ord)
cross join (values ('update', 'update', ' set user_agent = ''x'''),
                   ('delete', 'delete from', ''),
                   ('truncate', 'truncate', '')) as o (op, verb, tail)
order by a.ord, o.op;

select throws_ok($$update public.audit_logs set user_agent = 'x'$$, '42501', null,
  'audit_logs: update refused for the superuser (trigger)');
select throws_ok($$delete from public.audit_logs$$, '42501', null,
  'audit_logs: delete refused for the superuser (trigger)');
select throws_ok($$truncate public.audit_logs$$, '42501', null,
  'audit_logs: truncate refused for the superuser (trigger)');
select ok(not has_table_privilege('service_role', 'public.audit_logs', 'UPDATE, DELETE, TRUNCATE'),
  'service_role holds no UPDATE, DELETE or TRUNCATE on audit_logs');
select ok(not has_table_privilege('authenticated', 'public.audit_logs', 'INSERT, UPDATE, DELETE, TRUNCATE'),
  'authenticated holds only SELECT on audit_logs');

-- 2. Actor capture ------------------------------------------------------------
-- a user writing under RLS
select set_config('request.jwt.claims',
  '{"sub": "aaaaaaaa-0000-4000-8000-000000000004", "role": "authenticated", "email": "customer@tenant-a.test", "user_metadata": {"x": 1}}', true);
set local role authenticated;
update public.profiles set display_name = 'Cleo C.' where id = 'aaaaaaaa-0000-4000-8000-000000000004';
reset role;
create temp table a1 as
  select * from public.audit_logs where table_name = 'profiles' and operation = 'UPDATE' order by id desc limit 1;
select is((select actor_id from a1), 'aaaaaaaa-0000-4000-8000-000000000004'::uuid, 'user write: actor is the user');
select is((select db_role from a1), 'authenticated', 'user write: database role is authenticated');
select is((select actor_claims ->> 'email' from a1), 'customer@tenant-a.test', 'user write: claims are recorded');
select ok((select not (actor_claims ? 'user_metadata') from a1), 'user write: user_metadata is not copied');
select is((select old_record ->> 'display_name' || ' -> ' || (new_record ->> 'display_name') from a1),
  'Cleo Customer -> Cleo C.', 'user write: old and new row are recorded');
select is((select row_pk from a1), '{"id": "aaaaaaaa-0000-4000-8000-000000000004"}'::jsonb, 'user write: row id recorded');

-- a privileged connection (superuser, as db.ts asAdmin) acting for tenant A's admin
select set_config('request.jwt.claims',
  '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated", "email": "admin@tenant-a.test"}', true);
select set_config('edgeguard.request_id', 'req-audit-0001', true);
select set_config('edgeguard.client_ip', '198.51.100.23', true);
select set_config('edgeguard.user_agent', 'edgeguard-test/1.0', true);
update public.tenant_members set role = 'moderator'
  where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000003';
create temp table a2 as
  select * from public.audit_logs where table_name = 'tenant_members' and operation = 'UPDATE' order by id desc limit 1;
select is((select actor_id from a2), 'aaaaaaaa-0000-4000-8000-000000000001'::uuid,
  'privileged write with claims: actor is the user, not the connection');
select is((select db_role from a2), session_user::text, 'privileged write: the database role is the connection''s');
select is((select tenant_id from a2), 'aaaaaaaa-0000-4000-8000-000000000000'::uuid, 'privileged write: tenant recorded');
select is((select request_id from a2), 'req-audit-0001', 'request id captured');
select is((select client_ip from a2), '198.51.100.23'::inet, 'client ip captured');
select is((select user_agent from a2), 'edgeguard-test/1.0', 'user agent captured');
select is((select (old_record ->> 'role') || ' -> ' || (new_record ->> 'role') from a2), 'provider -> moderator',
  'role change recorded with old and new value');

-- service_role with the user's claims
set local role service_role;
update public.tenants set name = 'Tenant A (renamed)' where id = 'aaaaaaaa-0000-4000-8000-000000000000';
reset role;
select is((select actor_id::text || ' ' || db_role from public.audit_logs
           where table_name = 'tenants' and operation = 'UPDATE' order by id desc limit 1),
  'aaaaaaaa-0000-4000-8000-000000000001 service_role', 'service_role write with claims: actor is the user');

-- PostgREST-style request.headers as the fallback source
select set_config('edgeguard.request_id', '', true);
select set_config('edgeguard.client_ip', '', true);
select set_config('edgeguard.user_agent', '', true);
select set_config('request.headers',
  '{"x-request-id": "req-hdr-7", "x-forwarded-for": "203.0.113.7, 10.0.0.1", "user-agent": "curl/8"}', true);
update public.tenants set name = 'Tenant A' where id = 'aaaaaaaa-0000-4000-8000-000000000000';
select is((select request_id || ' ' || coalesce(host(client_ip), 'no-ip') || ' ' || user_agent from public.audit_logs
           where table_name = 'tenants' order by id desc limit 1),
  'req-hdr-7 no-ip curl/8', 'request.headers fallback: request id and user agent; never the client-set leftmost forwarded address');
select set_config('edgeguard.client_ip', 'not-an-ip', true);
update public.tenants set name = 'Tenant A.' where id = 'aaaaaaaa-0000-4000-8000-000000000000';
select is((select client_ip from public.audit_logs where table_name = 'tenants' order by id desc limit 1), null::inet,
  'a malformed client address is recorded as null, not an error');
select set_config('edgeguard.client_ip', '', true);
select set_config('request.headers', '', true);

-- no claims at all: the database role is still recorded
select set_config('request.jwt.claims', '', true);
update public.tenants set name = 'Tenant A' where id = 'aaaaaaaa-0000-4000-8000-000000000000';
select is((select coalesce(actor_id::text, 'none') || ' ' || db_role from public.audit_logs
           where table_name = 'tenants' order by id desc limit 1),
  'none ' || session_user, 'no claims: no actor, the connection role');

-- the actor cannot be forged by the writer
select set_config('request.jwt.claims', '{"role": "service_role"}', true);
set local role service_role;
insert into public.audit_logs (tenant_id, table_schema, table_name, operation, actor_id, db_role, prev_hash, hash)
values ('aaaaaaaa-0000-4000-8000-000000000000', 'event', 'forged', 'EVENT',
        'bbbbbbbb-0000-4000-8000-000000000001', 'nobody', repeat('a', 64), repeat('b', 64));
reset role;
select is((select coalesce(actor_id::text, 'none') || ' ' || db_role || ' ' || (hash <> repeat('b', 64))::text
           from public.audit_logs where table_name = 'forged'),
  'none service_role true', 'actor, role and hash supplied by the writer are replaced');

-- redaction and ignored columns
insert into public.api_keys (id, tenant_id, user_id, name, prefix, key_hash)
values ('aaaaaaaa-0000-4000-8000-00000000a002', 'aaaaaaaa-0000-4000-8000-000000000000',
        'aaaaaaaa-0000-4000-8000-000000000004', 'audited key', 'egk_audit001', encode(sha256('k'::bytea), 'hex'));
select is((select new_record ->> 'key_hash' from public.audit_logs where table_name = 'api_keys' order by id desc limit 1),
  '[redacted]', 'api_keys.key_hash is redacted in the audit log');
create temp table n_before as select count(*) as n from public.audit_logs where table_name = 'api_keys';
update public.api_keys set last_used_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a002';
select is((select count(*) from public.audit_logs where table_name = 'api_keys'), (select n from n_before),
  'a last_used_at-only update is not logged');
update public.api_keys set revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a002';
select is((select count(*) from public.audit_logs where table_name = 'api_keys'), (select n from n_before) + 1,
  'a revocation is logged');

-- application events through private.audit_event (service only)
select set_config('request.jwt.claims', '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role service_role;
select ok(private.audit_event('aaaaaaaa-0000-4000-8000-000000000000', 'member.role_changed', '{"to": "moderator"}') > 0,
  'the service appends an application event');
reset role;
select is((select actor_id from public.audit_logs where table_name = 'member.role_changed'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'the event records the acting user');
select is(eg_tests.try('member', $$select private.audit_event(null, 'x.y', '{}')$$), 'error:42501',
  'clients cannot append events');
select set_config('request.jwt.claims', '', true);

-- 3. Hash chain ---------------------------------------------------------------
select is((select format('%s|%s', valid::text, reason) from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')),
  'true|', 'tenant A''s chain verifies after all these writes');
select is((select count(*) = max(seq) and min(seq) = 1 from public.audit_logs
           where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'), true, 'seq runs 1..n without gaps');
select is((select count(*)::int from public.audit_logs a join public.audit_logs b
             on b.chain_id = a.chain_id and b.seq = a.seq + 1 and b.prev_hash = a.hash
           where a.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'),
          (select count(*)::int - 1 from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'),
  'every row links to its predecessor''s hash');
select is((select valid from public.verify_audit_chain(null)), true, 'the global chain verifies');

create temp table victim as
  select seq from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' order by seq offset 2 limit 1;
select is(eg_tests.tamper_then_verify(format(
    $$update public.audit_logs set new_record = jsonb_set(new_record, '{role}', '"admin"')
      where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %s$$, (select seq from victim)),
    'aaaaaaaa-0000-4000-8000-000000000000'),
  format('false|%s|hash_mismatch', (select seq from victim)),
  'a row edited by a superuser with triggers disabled is the first broken link');
select is(eg_tests.tamper_then_verify(format(
    $$update public.audit_logs a set new_record = '{"forged": true}'::jsonb where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %1$s;
      update public.audit_logs a set hash = private.audit_row_hash(a) where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %1$s$$,
    (select seq from victim)), 'aaaaaaaa-0000-4000-8000-000000000000'),
  format('false|%s|prev_hash_mismatch', (select seq from victim) + 1),
  'an edit with a recomputed hash breaks the next link');
select is(eg_tests.tamper_then_verify(format(
    $$delete from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %s$$, (select seq from victim)),
    'aaaaaaaa-0000-4000-8000-000000000000'),
  format('false|%s|sequence_gap', (select seq from victim) + 1),
  'a deleted row is found (gap in seq)');
create temp table head as
  select max(seq) as seq from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000';
select is(eg_tests.tamper_then_verify(format(
    $$delete from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %s$$, (select seq from head)),
    'aaaaaaaa-0000-4000-8000-000000000000'),
  format('false|%s|head_mismatch', (select seq from head)),
  'deleting the newest row is found (chain shorter than its head)');
select is(eg_tests.tamper_then_verify(format(
    $$update public.audit_logs set user_agent = 'x' where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = %s$$, (select seq from victim)),
    'bbbbbbbb-0000-4000-8000-000000000000'),
  'true|-|-', 'chains are per tenant: tampering in A leaves B''s chain valid');

-- who may verify
select is(eg_tests.outcome('admin', $$select * from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'allow', 'a tenant admin verifies their tenant''s chain');
select is(eg_tests.try('member', $$select * from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'error:42501', 'a member may not verify the chain');
select is(eg_tests.try('other', $$select * from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'error:42501', 'another tenant''s admin may not verify the chain');
select is(eg_tests.try('anon', $$select * from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'error:42501', 'anon may not verify the chain');

select is(eg_tests.try('other', $$select * from private.audit_chain_head('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'ok:0', 'another tenant''s admin learns nothing of tenant A''s chain head');
select is(eg_tests.try('admin', $$select * from private.audit_chain_head('aaaaaaaa-0000-4000-8000-000000000000')$$),
  'ok:1', 'tenant A''s admin reads the head of their chain');

select * from finish();
rollback;
