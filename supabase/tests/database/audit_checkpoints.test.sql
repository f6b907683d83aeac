-- pgTAP: signed checkpoints of the audit chains (docs/security.md, "Audit log
-- integrity"). The table is append-only for every role; a checkpoint must name
-- an existing head; a transaction's written chains are noted for signing; the
-- export carries what was hashed; and verify_audit_chain reports a row that
-- the owner rewrote (recomputing the whole chain and its head) before a
-- checkpoint. Signatures are checked by `edgeguard audit verify`, not here.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).

-- What the owner of audit_logs can do: rewrite rows with the triggers off,
-- then recompute every prev_hash, hash and the head so the plain chain holds.
create function eg_tests.rechain(p_chain uuid) returns void
language plpgsql as $$
declare
  r public.audit_logs;
  v_prev text;
begin
  for r in select * from public.audit_logs a where a.chain_id = p_chain order by a.seq loop
    r.prev_hash := v_prev;
    r.hash := private.audit_row_hash(r);
    update public.audit_logs a set prev_hash = r.prev_hash, hash = r.hash where a.id = r.id;
    v_prev := r.hash;
  end loop;
  update private.audit_chain_heads h set hash = v_prev,
    seq = (select max(a.seq) from public.audit_logs a where a.chain_id = p_chain)
  where h.chain_id = p_chain;
end;
$$;

-- Runs p_sql as the owner with the triggers off, re-chains tenant p_tenant,
-- runs p_after (e.g. rewriting checkpoints too), then verifies as the
-- superuser ('owner') or the tenant's admin ('admin'); everything is undone
-- afterwards. Returns valid|first_broken_seq|reason.
create function eg_tests.rewrite_then_verify(p_sql text, p_tenant uuid, p_as text, p_after text default null)
returns text
language plpgsql as $$
declare
  v_result text;
begin
  begin
    alter table public.audit_logs disable trigger user;
    alter table private.audit_checkpoints disable trigger user;
    execute p_sql;
    perform eg_tests.rechain(p_tenant);
    if p_after is not null then
      execute p_after;
    end if;
    alter table public.audit_logs enable trigger user;
    alter table private.audit_checkpoints enable trigger user;
    if p_as = 'admin' then
      perform set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('admin') a), true);
      set local role authenticated;
    end if;
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

select plan(42);

-- 1. The table: private, RLS on, append-only for every role ------------------
select has_table('private', 'audit_checkpoints', 'private.audit_checkpoints exists');
select ok((select c.relrowsecurity from pg_class c where c.oid = 'private.audit_checkpoints'::regclass),
  'audit_checkpoints has RLS enabled');

select is(eg_tests.try(a.actor, format('%s private.audit_checkpoints%s', o.verb, o.tail)), 'error:42501',
          format('audit_checkpoints: %s refused for %s', o.op, a.actor))
from (values ('anon', 1), ('member', 2), ('admin', 3), ('service', 4)) as a (actor, ord)
cross join (values ('update', 'update', ' set key_id = ''0000000000000000'''),
                   ('delete', 'delete from', ''),
                   ('truncate', 'truncate', '')) as o (op, verb, tail)
order by a.ord, o.op;

-- a checkpoint of tenant A's current head, appended as the functions do (service_role)
select is(eg_tests.try('service', $$
  insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
  select h.chain_id, h.seq, h.hash, 1764000000000, '0123456789abcdef', repeat('A', 86)
  from private.audit_chain_heads h where h.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'ok:1', 'service_role appends a checkpoint of an existing head');
select is(eg_tests.try(a.actor, $$
  insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
  select h.chain_id, h.seq, h.hash, 0, '0123456789abcdef', repeat('A', 86)
  from private.audit_chain_heads h where h.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'error:42501', format('audit_checkpoints: insert refused for %s', a.actor))
from (values ('anon'), ('member'), ('admin')) as a (actor);
select is(eg_tests.try('service', $$
  insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
  select h.chain_id, h.seq, repeat('e', 64), 0, '0123456789abcdef', repeat('A', 86)
  from private.audit_chain_heads h where h.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$),
  'error:23514', 'a checkpoint of a head that never was is refused');

-- the real one, kept for the rest of the file (as the superuser: try() undoes its work)
insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
select h.chain_id, h.seq, h.hash, 1764000000000, '0123456789abcdef', repeat('A', 86)
from private.audit_chain_heads h where h.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000';

select throws_ok($$update private.audit_checkpoints set signed_at_ms = 1$$, '42501', null,
  'audit_checkpoints: update refused for the superuser (trigger)');
select throws_ok($$delete from private.audit_checkpoints$$, '42501', null,
  'audit_checkpoints: delete refused for the superuser (trigger)');
select throws_ok($$truncate private.audit_checkpoints$$, '42501', null,
  'audit_checkpoints: truncate refused for the superuser (trigger)');
select ok(not has_table_privilege('service_role', 'private.audit_checkpoints', 'UPDATE, DELETE, TRUNCATE'),
  'service_role holds no UPDATE, DELETE or TRUNCATE on audit_checkpoints');

-- 2. The function role owns nothing: no DDL, no trigger switch, no edit ------
select is(eg_tests.try('service', s.sql), 'error:42501', s.what)
from (values
  ('alter table public.audit_logs disable trigger user', 'service_role cannot disable the audit_logs triggers'),
  ('alter table private.audit_checkpoints disable trigger user', 'service_role cannot disable the checkpoint triggers'),
  ('update public.audit_logs set user_agent = ''x''', 'service_role cannot update audit_logs'),
  ('update private.audit_chain_heads set seq = seq', 'service_role cannot move a chain head')) as s (sql, what);

-- 3. Which chains a transaction wrote ----------------------------------------
select is(coalesce(current_setting('edgeguard.audit_chains_written', true), ''), '',
  'nothing written yet: no chain noted');
select set_config('request.jwt.claims', (select a.claims::text from eg_tests.actor('admin') a), true);
set local role authenticated;
update public.tenants set name = 'Tenant A (checkpoint test)' where id = 'aaaaaaaa-0000-4000-8000-000000000000';
reset role;
select is(current_setting('edgeguard.audit_chains_written', true), 'aaaaaaaa-0000-4000-8000-000000000000',
  'an audited write as a tenant admin notes the tenant''s chain');
select set_config('request.jwt.claims', '', true);
select private.audit_event(null, 'checkpoint.test', '{}');
select private.audit_event('aaaaaaaa-0000-4000-8000-000000000000', 'checkpoint.test', '{}');
select is(current_setting('edgeguard.audit_chains_written', true),
  'aaaaaaaa-0000-4000-8000-000000000000,00000000-0000-0000-0000-000000000000',
  'each written chain is noted once');
set local role service_role;
select results_eq(
  $$select w.chain_id, w.seq, w.hash from private.audit_written_heads() w$$,
  $$select h.chain_id, h.seq, h.hash from private.audit_chain_heads h
    where h.chain_id in ('00000000-0000-0000-0000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000')
    order by h.chain_id$$,
  'audit_written_heads: the heads of the written chains, for service_role');
reset role;
select is(eg_tests.try('member', 'select * from private.audit_written_heads()'), 'error:42501',
  'clients cannot read the written heads');

-- 4. The export carries exactly what was hashed ------------------------------
select is(
  (select count(*) from public.audit_logs a
   where a.hash <> encode(sha256(convert_to(private.audit_row_canonical(a), 'UTF8')), 'hex')),
  0::bigint, 'every row hash is sha256 of its canonical text');
select is(
  (select count(*) from jsonb_array_elements(private.audit_export(array['aaaaaaaa-0000-4000-8000-000000000000'::uuid]) -> 'chains') c,
                        jsonb_array_elements(c -> 'rows') r
   where r ->> 'hash' <> encode(sha256(convert_to(r ->> 'canonical', 'UTF8')), 'hex')),
  0::bigint, 'export: every row''s canonical text hashes to its hash');
select is(
  (select jsonb_array_length(c -> 'checkpoints')
   from jsonb_array_elements(private.audit_export(array['aaaaaaaa-0000-4000-8000-000000000000'::uuid]) -> 'chains') c),
  1, 'export: the chain''s checkpoint is included');
select is(
  (select jsonb_array_length(private.audit_export() -> 'chains')),
  (select count(distinct a.chain_id)::int from public.audit_logs a),
  'export without arguments: every chain');

-- 5. verify_audit_chain compares the chain with its checkpoints ---------------
-- (the checkpoint's seq, read now: the rewrites below alter its table)
select k.seq as checkpoint_seq from private.audit_checkpoints k
where k.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' \gset
select is((select format('%s|%s', v.valid::text, v.reason) from public.verify_audit_chain('aaaaaaaa-0000-4000-8000-000000000000') v),
  'true|', 'the honest chain with its checkpoint verifies');
select is(eg_tests.rewrite_then_verify(
  $$update public.audit_logs set user_agent = 'rewritten by the owner'
    where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = 2$$,
  'aaaaaaaa-0000-4000-8000-000000000000', 'owner'),
  'false|' || :'checkpoint_seq' || '|checkpoint_mismatch',
  'a row rewritten before the checkpoint, chain and head recomputed: checkpoint_mismatch');
select is(eg_tests.rewrite_then_verify(
  $$update public.audit_logs set user_agent = 'rewritten by the owner'
    where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = 2$$,
  'aaaaaaaa-0000-4000-8000-000000000000', 'admin'),
  'false|' || :'checkpoint_seq' || '|checkpoint_mismatch',
  'the same, verified by the tenant''s admin: checkpoint_mismatch');
select is(eg_tests.rewrite_then_verify(
  $$delete from public.audit_logs where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'
      and seq >= (select k.seq from private.audit_checkpoints k where k.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000')$$,
  'aaaaaaaa-0000-4000-8000-000000000000', 'owner'),
  'false|' || :'checkpoint_seq' || '|checkpoint_mismatch',
  'the newest rows removed down past the checkpoint, head moved back: checkpoint_mismatch');
select is(eg_tests.rewrite_then_verify(
  $$update public.audit_logs set new_record = '{"rewritten": true}'
    where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000'
      and seq = (select h.seq from private.audit_chain_heads h where h.chain_id = 'aaaaaaaa-0000-4000-8000-000000000000')$$,
  'aaaaaaaa-0000-4000-8000-000000000000', 'owner'),
  'true|-|-', 'a row after the last checkpoint, re-chained, is not caught (the unsigned tail; docs/security.md)');
select is(eg_tests.rewrite_then_verify(
  $$update public.audit_logs set user_agent = 'rewritten by the owner'
    where chain_id = 'aaaaaaaa-0000-4000-8000-000000000000' and seq = 2$$,
  'aaaaaaaa-0000-4000-8000-000000000000', 'owner',
  $$update private.audit_checkpoints k set head_hash = a.hash
    from public.audit_logs a where a.chain_id = k.chain_id and a.seq = k.seq$$),
  'true|-|-',
  'checkpoints rewritten too: beyond SQL, only the signatures tell (edgeguard audit verify)');

select * from finish();
rollback;
