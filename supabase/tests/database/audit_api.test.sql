-- pgTAP: what the audit function reads (docs/database.md, "Audit API";
-- migration 20261202000800_audit_api.sql): audit:read holders (from the
-- membership, not the token) read their tenant's log, verify its chain and
-- read its hourly security metrics; others are refused; denials are
-- attributed to the actor's tenant; the rollup outlives the events.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(24);

\set A '''aaaaaaaa-0000-4000-8000-000000000000'''
\set B '''bbbbbbbb-0000-4000-8000-000000000000'''

select has_table('private', 'security_metrics_hourly_rollup', 'the rollup table exists');
select ok((select relrowsecurity from pg_class where oid = 'private.security_metrics_hourly_rollup'::regclass),
  'the rollup has RLS');

-- who holds audit:read
create function pg_temp.as_actor(p_actor text, p_sql text) returns text language plpgsql as $$
declare v text; v_role text; v_claims jsonb;
begin
  select a.db_role, a.claims into v_role, v_claims from eg_tests.actor(p_actor) a;
  perform set_config('request.jwt.claims', v_claims::text, true);
  execute format('set local role %I', v_role);
  execute p_sql into v;
  reset role;
  return v;
exception when others then
  reset role;
  return 'error:' || sqlstate;
end;
$$;
select is(pg_temp.as_actor('admin', 'select array_agg(t)::text from private.tenant_ids_with_permission(''audit:read'') t'),
  '{aaaaaaaa-0000-4000-8000-000000000000}', 'the admin of A holds audit:read in A');
select is(pg_temp.as_actor('member', 'select coalesce(array_agg(t)::text, ''{}'') from private.tenant_ids_with_permission(''audit:read'') t'),
  '{}', 'a customer holds it nowhere');
select is(pg_temp.as_actor('member', 'select count(*)::text from public.audit_logs'), '0',
  'a customer reads no audit row');
select is(pg_temp.as_actor('provider', 'select count(*)::text from public.audit_logs'), '0',
  'a provider reads no audit row');

-- a project grants audit:* to providers: they read their own tenant only (inheritance, wildcard)
insert into public.role_permissions (role, permission) values ('provider', 'audit:*');
select ok(pg_temp.as_actor('provider', 'select count(*)::text from public.audit_logs')::int > 0,
  'with audit:* a provider reads the audit log');
select is(pg_temp.as_actor('provider', 'select count(*)::text from public.audit_logs where tenant_id <> ''aaaaaaaa-0000-4000-8000-000000000000'''),
  '0', 'only of their own tenant');
select is(pg_temp.as_actor('provider', 'select valid::text from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  'true', 'and verifies its chain');
delete from public.role_permissions where role = 'provider' and permission = 'audit:*';
select is(pg_temp.as_actor('provider', 'select count(*)::text from public.audit_logs'), '0',
  'the grant withdrawn, the provider reads nothing again (the membership decides, not a token)');

-- verification
select is(pg_temp.as_actor('admin', 'select format(''%s|%s|%s'', valid, coalesce(reason, ''-''), rows_checked = head_seq) from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  't|-|t', 'the admin verifies the chain of A; every row up to the head checked');
select is(pg_temp.as_actor('member', 'select valid::text from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  'error:42501', 'a customer cannot verify');
select is(pg_temp.as_actor('other', 'select valid::text from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  'error:42501', 'the admin of B cannot verify A');
select is(pg_temp.as_actor('anon', 'select valid::text from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  'error:42501', 'anon cannot verify');

-- a checkpoint that no longer matches is reported through the same function
\o /dev/null
alter table private.audit_checkpoints disable trigger user;
insert into private.audit_checkpoints (chain_id, seq, head_hash, signed_at_ms, key_id, signature)
select chain_id, seq, repeat('f', 64), 1, repeat('0', 16), repeat('A', 86) from private.audit_chain_heads where chain_id = :A;
alter table private.audit_checkpoints enable trigger user;
\o
select is(pg_temp.as_actor('admin', 'select format(''%s|%s|%s'', valid, reason, checkpoints >= 1) from private.verify_tenant_audit(''aaaaaaaa-0000-4000-8000-000000000000'')'),
  'f|checkpoint_mismatch|t', 'a checkpoint that does not match the chain fails the verification');

-- events are attributed to the actor's only tenant
insert into public.security_events (event_type, severity, actor_id, details)
values ('auth_denied', 'warning', 'aaaaaaaa-0000-4000-8000-000000000004', '{"code": "FORBIDDEN", "route": "GET /audit/logs", "reason": "r"}');
select is((select tenant_id from public.security_events order by id desc limit 1), :A::uuid,
  'a denial of a member of A is an event of A');
insert into public.security_events (event_type, severity, actor_id, details)
values ('auth_denied', 'warning', 'cccccccc-0000-4000-8000-000000000001', '{"code": "FORBIDDEN", "route": "GET /audit/logs"}');
select is((select tenant_id from public.security_events order by id desc limit 1), null::uuid,
  'a user without tenant stays project-wide');
insert into public.security_events (event_type, severity, tenant_id, actor_id, details)
values ('auth_denied', 'warning', :B, 'aaaaaaaa-0000-4000-8000-000000000004', '{"code": "TENANT_MISMATCH", "route": "GET /x"}');
select is((select tenant_id from public.security_events order by id desc limit 1), :B::uuid,
  'an explicit tenant is kept');

-- rollup
insert into public.security_events (event_type, severity, tenant_id, details)
select 'rate_limited', 'warning', :A, '{"route": "GET /audit/logs", "rule": "ip-min"}' from generate_series(1, 2);
insert into public.security_events (occurred_at, event_type, severity, tenant_id, details)
values (now() - interval '30 hours', 'webhook_signature_invalid', 'warning', :A,
        '{"code": "INVALID_SIGNATURE", "route": "POST /webhooks/github"}');
select ok(private.refresh_security_metrics(now() - interval '48 hours') >= 3, 'refresh writes rollup rows');
select is(pg_temp.as_actor('admin', $q$select string_agg(format('%s %s %s %s', event_type, route, code, events), '; ' order by event_type, code)
  from private.tenant_security_metrics('aaaaaaaa-0000-4000-8000-000000000000', now() - interval '2 days', now() + interval '1 hour')
  where route in ('GET /audit/logs', 'POST /webhooks/github')$q$),
  'auth_denied GET /audit/logs FORBIDDEN 1; rate_limited GET /audit/logs RATE_LIMITED 2; webhook_signature_invalid POST /webhooks/github INVALID_SIGNATURE 1',
  'the admin reads the hourly counts of A by type, route and code');
select is(pg_temp.as_actor('other', $q$select count(*)::text from private.tenant_security_metrics('aaaaaaaa-0000-4000-8000-000000000000', now() - interval '2 days', now() + interval '1 hour')$q$),
  'error:42501', 'the admin of B cannot read the metrics of A');
select is(pg_temp.as_actor('member', 'select private.refresh_security_metrics()::text'), 'error:42501',
  'a client cannot refresh the rollup');
delete from public.security_events where event_type = 'webhook_signature_invalid' and tenant_id = :A;
select lives_ok($$select private.refresh_security_metrics()$$, 'a default refresh (the last 24 hours)');
select is((select sum(events)::int from private.security_metrics_hourly_rollup
           where tenant_id = :A and event_type = 'webhook_signature_invalid' and hour < now() - interval '24 hours'), 1,
  'counts of older hours survive the deletion of their events');

select * from finish();
rollback;
