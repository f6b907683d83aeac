-- pgTAP: private.auth_hook_deliveries, the first answer to each Supabase Auth
-- hook delivery (by webhook-id). Only the service touches it; one row per id.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(9);

select has_table('private', 'auth_hook_deliveries', 'the deliveries table exists');
select ok((select relrowsecurity from pg_class where oid = 'private.auth_hook_deliveries'::regclass), 'RLS is enabled');
select ok(not has_table_privilege('anon', 'private.auth_hook_deliveries', 'select, insert, update, delete'), 'anon has no access');
select ok(not has_table_privilege('authenticated', 'private.auth_hook_deliveries', 'select, insert, update, delete'), 'authenticated has no access');
select ok(has_table_privilege('service_role', 'private.auth_hook_deliveries', 'select, insert, update, delete'), 'the service answers hooks');
select has_index('private', 'auth_hook_deliveries', 'auth_hook_deliveries_created_at_idx', 'purging by age is indexed');

set local role service_role;
insert into private.auth_hook_deliveries (webhook_id, hook) values ('msg_1', 'password-verification');
insert into private.auth_hook_deliveries (webhook_id, hook) values ('msg_1', 'password-verification')
  on conflict (webhook_id) do nothing;
select is((select count(*)::int from private.auth_hook_deliveries where webhook_id = 'msg_1'), 1,
  'a second delivery of one webhook-id inserts nothing (it is a replay)');
select throws_ok($$insert into private.auth_hook_deliveries (webhook_id, hook) values ('msg_2', 'other')$$,
  '23514', null, 'only the two hooks');
select throws_ok($$insert into private.auth_hook_deliveries (webhook_id, hook) values ('', 'password-verification')$$,
  '23514', null, 'the id is never empty');
reset role;

select * from finish();
rollback;
