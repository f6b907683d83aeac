-- pgTAP: private.password_attempt, the failure counter behind the password
-- verification attempt auth hook. Times are passed in, so every rule is exact.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

create temp table t0 as select '2026-01-01 00:00:00+00'::timestamptz as t;
-- (user, valid, max 3 failures, window 600 s, lockout 300 s, at t0 + s seconds)
create function pg_temp.attempt(p_user uuid, p_valid boolean, p_s int) returns text language sql as $$
  select a.decision || ':' || a.failed_count
  from private.password_attempt(p_user, p_valid, 3, 600, 300, (select t from t0) + make_interval(secs => p_s)) a;
$$;

select plan(19);

select ok(has_function_privilege('service_role', 'private.password_attempt(uuid,boolean,integer,integer,integer,timestamptz)', 'execute'),
  'service_role may count attempts');
select ok(not has_function_privilege('authenticated', 'private.password_attempt(uuid,boolean,integer,integer,integer,timestamptz)', 'execute'),
  'authenticated may not');
select ok(not has_function_privilege('anon', 'private.password_attempt(uuid,boolean,integer,integer,integer,timestamptz)', 'execute'),
  'anon may not');
select ok(not has_table_privilege('service_role', 'private.password_failures', 'select, insert, update, delete'),
  'nobody touches the counters directly');

-- customer A: 3 failures lock; while locked even the right password is refused
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', false, 0), 'continue:1', 'failure 1 continues');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', false, 10), 'continue:2', 'failure 2 continues');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', false, 20), 'reject:3', 'failure 3 reaches the limit: reject');
select is((select locked_until from private.password_failures where user_id = 'aaaaaaaa-0000-4000-8000-000000000004'),
  (select t + interval '320 seconds' from t0), 'locked for the lockout period from the last failure');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', true, 30), 'reject:3',
  'the right password while locked is refused and not counted');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', false, 40), 'reject:4', 'a failure while locked is refused');
select is((select locked_until from private.password_failures where user_id = 'aaaaaaaa-0000-4000-8000-000000000004'),
  (select t + interval '340 seconds' from t0), 'a failure while locked extends the lock');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000004', true, 341), 'continue:0', 'after the lock, the right password continues');
select ok(not exists (select 1 from private.password_failures where user_id = 'aaaaaaaa-0000-4000-8000-000000000004'),
  'a success resets the count');

-- the window: failures older than the window are forgotten
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000003', false, 0), 'continue:1', 'provider: failure 1');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000003', false, 100), 'continue:2', 'provider: failure 2');
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000003', false, 700), 'continue:1',
  'a failure after the window starts a new count');

-- users are counted separately
select is(pg_temp.attempt('aaaaaaaa-0000-4000-8000-000000000002', true, 0), 'continue:0', 'another user is unaffected');

select throws_ok($$select * from private.password_attempt(null, false)$$, '22023', null, 'a null user is refused');
select throws_ok($$select * from private.password_attempt('aaaaaaaa-0000-4000-8000-000000000002', false, 0)$$, '22023', null,
  'a limit of 0 is refused');

select * from finish();
rollback;
