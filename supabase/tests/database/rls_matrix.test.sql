-- pgTAP: the RLS matrix. For every table: {anon, authenticated user of another
-- tenant (tenant B's admin), member (tenant A's customer), tenant admin
-- (tenant A's admin), service_role} x {select, insert, update, delete} on rows
-- of tenant A, each with its expected outcome. 10 tables x 5 actors x 4 = 200.
-- Every statement runs in a subtransaction that is undone, so the cells are
-- independent. Seed UUIDs: docs/database.md.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).

-- Fixtures owned by tenant A (created as the superuser, rolled back at the end).
insert into auth.users (id, email) values ('dddddddd-0000-4000-8000-000000000001', 'no-profile@example.test');
insert into public.roles (name, rank) values ('intern', 5);
insert into public.api_keys (id, tenant_id, user_id, name, prefix, key_hash)
values ('aaaaaaaa-0000-4000-8000-00000000a001', 'aaaaaaaa-0000-4000-8000-000000000000',
        'aaaaaaaa-0000-4000-8000-000000000004', 'member key', 'egk_matrix01',
        encode(sha256('matrix key'::bytea), 'hex'));
insert into public.tenant_invitations (id, tenant_id, invitee_user_id, role, invited_by)
values ('aaaaaaaa-0000-4000-8000-00000000c001', 'aaaaaaaa-0000-4000-8000-000000000000',
        'cccccccc-0000-4000-8000-000000000001', 'customer', 'aaaaaaaa-0000-4000-8000-000000000001');
insert into public.webhook_events (id, provider, event_id, event_type)
values ('aaaaaaaa-0000-4000-8000-00000000b001', 'stripe', 'evt_matrix_1', 'invoice.paid');
insert into public.security_events (event_type, severity, tenant_id, details)
values ('matrix.fixture', 'warning', 'aaaaaaaa-0000-4000-8000-000000000000', '{"fixture": true}');

create temp table cases (n serial, tbl text, op text, stmt text, anon text, other text, member text, admin text, service text);
insert into cases (tbl, op, stmt, anon, other, member, admin, service) values
-- tenants: members read; tenant admins rename; the service creates and deletes
('tenants', 'select', $$select 1 from public.tenants where id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'allow', 'allow', 'allow'),
('tenants', 'insert', $$insert into public.tenants (slug, name) values ('tenant-new', 'New')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('tenants', 'update', $$update public.tenants set name = 'Renamed' where id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('tenants', 'delete', $$delete from public.tenants where id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- tenant_members (target: tenant A's provider)
('tenant_members', 'select', $$select 1 from public.tenant_members where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'allow', 'allow', 'allow'),
-- insert: members join by accepting an invitation (tenant_invitations), never by a direct insert
('tenant_members', 'insert', $$insert into public.tenant_members (tenant_id, user_id, role) values ('aaaaaaaa-0000-4000-8000-000000000000', 'cccccccc-0000-4000-8000-000000000001', 'customer')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('tenant_members', 'update', $$update public.tenant_members set role = 'moderator' where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('tenant_members', 'delete', $$delete from public.tenant_members where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' and user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
-- profiles (target: tenant A's provider; insert: a user without a profile)
('profiles', 'select', $$select 1 from public.profiles where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'allow', 'allow', 'allow'),
('profiles', 'insert', $$insert into public.profiles (id, display_name) values ('dddddddd-0000-4000-8000-000000000001', 'Someone')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('profiles', 'update', $$update public.profiles set display_name = 'Changed' where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('profiles', 'delete', $$delete from public.profiles where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- roles: reference data, read by every signed-in user, changed by the service
('roles', 'select', $$select 1 from public.roles where name = 'guest'$$,
  'deny', 'allow', 'allow', 'allow', 'allow'),
('roles', 'insert', $$insert into public.roles (name, rank) values ('trainee', 6)$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('roles', 'update', $$update public.roles set description = 'changed' where name = 'guest'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('roles', 'delete', $$delete from public.roles where name = 'intern'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- role_permissions
('role_permissions', 'select', $$select 1 from public.role_permissions where role = 'guest' and permission = 'public:read'$$,
  'deny', 'allow', 'allow', 'allow', 'allow'),
('role_permissions', 'insert', $$insert into public.role_permissions (role, permission) values ('guest', 'extra:read')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('role_permissions', 'update', $$update public.role_permissions set permission = 'public:list' where role = 'guest' and permission = 'public:read'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('role_permissions', 'delete', $$delete from public.role_permissions where role = 'guest' and permission = 'public:read'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- api_keys (target: the member's key in tenant A; insert: an own key in tenant A). Clients
-- read; every write is the service's (the api-keys function computes the keyed hash)
('api_keys', 'select', $$select 1 from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$,
  'deny', 'deny', 'allow', 'allow', 'allow'),
('api_keys', 'insert', $$insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash) values ('aaaaaaaa-0000-4000-8000-000000000000', coalesce((select auth.uid()), 'aaaaaaaa-0000-4000-8000-000000000004'), 'new key', 'egk_matrix02', encode(sha256('another key'::bytea), 'hex'))$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('api_keys', 'update', $$update public.api_keys set revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('api_keys', 'delete', $$delete from public.api_keys where id = 'aaaaaaaa-0000-4000-8000-00000000a001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- tenant_invitations (target: a pending invitation of tenant A for the outsider): tenant admins
-- read and invite; accept, decline and revoke are functions (tenant_invitations.test.sql)
('tenant_invitations', 'select', $$select 1 from public.tenant_invitations where id = 'aaaaaaaa-0000-4000-8000-00000000c001'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('tenant_invitations', 'insert', $$insert into public.tenant_invitations (tenant_id, invitee_email, role) values ('aaaaaaaa-0000-4000-8000-000000000000', 'invitee@example.test', 'customer')$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('tenant_invitations', 'update', $$update public.tenant_invitations set expires_at = now() + interval '1 day' where id = 'aaaaaaaa-0000-4000-8000-00000000c001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('tenant_invitations', 'delete', $$delete from public.tenant_invitations where id = 'aaaaaaaa-0000-4000-8000-00000000c001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- audit_logs: tenant admins read their chain; the service reads and appends; nobody edits
('audit_logs', 'select', $$select 1 from public.audit_logs where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('audit_logs', 'insert', $$insert into public.audit_logs (tenant_id, table_schema, table_name, operation, db_role, hash) values ('aaaaaaaa-0000-4000-8000-000000000000', 'event', 'matrix', 'EVENT', '', repeat('0', 64))$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('audit_logs', 'update', $$update public.audit_logs set user_agent = 'forged' where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'deny', 'deny', 'deny'),
('audit_logs', 'delete', $$delete from public.audit_logs where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  'deny', 'deny', 'deny', 'deny', 'deny'),
-- webhook_events: service only
('webhook_events', 'select', $$select 1 from public.webhook_events where id = 'aaaaaaaa-0000-4000-8000-00000000b001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('webhook_events', 'insert', $$insert into public.webhook_events (provider, event_id) values ('github', 'delivery-matrix-2')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('webhook_events', 'update', $$update public.webhook_events set status = 'processed', processed_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000b001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('webhook_events', 'delete', $$delete from public.webhook_events where id = 'aaaaaaaa-0000-4000-8000-00000000b001'$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
-- security_events: tenant admins read; the service appends and deletes (retention), never edits
('security_events', 'select', $$select 1 from public.security_events where event_type = 'matrix.fixture'$$,
  'deny', 'deny', 'deny', 'allow', 'allow'),
('security_events', 'insert', $$insert into public.security_events (event_type, tenant_id) values ('matrix.insert', 'aaaaaaaa-0000-4000-8000-000000000000')$$,
  'deny', 'deny', 'deny', 'deny', 'allow'),
('security_events', 'update', $$update public.security_events set severity = 'info' where event_type = 'matrix.fixture'$$,
  'deny', 'deny', 'deny', 'deny', 'deny'),
('security_events', 'delete', $$delete from public.security_events where event_type = 'matrix.fixture'$$,
  'deny', 'deny', 'deny', 'deny', 'allow');

create temp table matrix as
select c.n, c.tbl, c.op, a.actor, a.ord,
       case a.actor when 'anon' then c.anon when 'other' then c.other when 'member' then c.member
                    when 'admin' then c.admin else c.service end as expected
from cases c
cross join (values ('anon', 1), ('other', 2), ('member', 3), ('admin', 4), ('service', 5)) as a (actor, ord);

select plan(201);

select is((select count(distinct tbl)::int from cases), 10, 'the matrix covers all 10 public tables');

select is(eg_tests.outcome(m.actor, c.stmt), m.expected, format('%s: %s %s -> %s', m.tbl, m.actor, m.op, m.expected))
from matrix m join cases c using (n)
order by m.n, m.ord;

select * from finish();
rollback;
