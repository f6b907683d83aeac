-- pgTAP: the global rate limiter (supabase/migrations/20261123090000_rate_limits.sql).
begin;
select plan(27);

-- shape and lock-down
select has_table('private', 'rate_limits', 'private.rate_limits exists');
select ok((select relrowsecurity from pg_class where oid = 'private.rate_limits'::regclass),
  'RLS is enabled on private.rate_limits');
select is((select count(*)::int from pg_policies where schemaname = 'private' and tablename = 'rate_limits'), 0,
  'no policies: nobody reads or writes the state directly');
select has_function('private', 'rate_limit_hit', array['text', 'integer', 'integer'], 'rate_limit_hit exists');
select ok((select prosecdef from pg_proc where oid = 'private.rate_limit_hit(text,integer,integer)'::regprocedure),
  'rate_limit_hit is security definer');
select ok((select proconfig @> array['search_path=""'] from pg_proc
           where oid = 'private.rate_limit_hit(text,integer,integer)'::regprocedure),
  'rate_limit_hit pins search_path to empty');
select ok(not has_function_privilege('anon', 'private.rate_limit_hit(text,integer,integer)', 'execute'),
  'anon cannot execute rate_limit_hit');
select ok(not has_function_privilege('authenticated', 'private.rate_limit_hit(text,integer,integer)', 'execute'),
  'authenticated cannot execute rate_limit_hit');
select ok(has_function_privilege('service_role', 'private.rate_limit_hit(text,integer,integer)', 'execute'),
  'service_role can execute rate_limit_hit');
select ok(not has_table_privilege('authenticated', 'private.rate_limits', 'select'),
  'authenticated cannot read the state');
select ok(not has_function_privilege('anon', 'private.rate_limit_purge()', 'execute'),
  'anon cannot execute rate_limit_purge');

-- exactly `limit` requests pass, the next is refused (generated key per run)
create temp table t_key as select 'test:' || md5(random()::text) as k;
create temp table t_hits (n int, allowed boolean, remaining int, reset_s bigint, retry_after_s bigint);
do $$
declare i int; r record;
begin
  for i in 1..7 loop
    select * into r from private.rate_limit_hit((select k from t_key), 5, 3600);
    insert into t_hits values (i, r.allowed, r.remaining, r.reset_s, r.retry_after_s);
  end loop;
end;
$$;
select is((select count(*)::int from t_hits where allowed), 5, 'limit 5: exactly 5 requests pass');
select is((select array_agg(n order by n) from t_hits where not allowed), array[6, 7], 'requests 6 and 7 are refused');
select is((select array_agg(remaining order by n) from t_hits), array[4, 3, 2, 1, 0, 0, 0],
  'remaining counts down to 0');
select ok((select bool_and(retry_after_s between 1 and 720) from t_hits where not allowed),
  'a refusal says when to retry (one emission interval, 720 s)');
select ok((select bool_and(retry_after_s = 0) from t_hits where allowed), 'an admitted request has no retry');
select ok((select bool_and(reset_s between 3599 and 3600) from t_hits where n >= 5),
  'reset is the whole window once the quota is used');
select is((select count(*)::int from private.rate_limits where key = (select k from t_key)), 1, 'one row per key, however many requests');

-- a refused request consumes nothing: the stored arrival time does not move
create temp table t_before as select tat from private.rate_limits where key = (select k from t_key);
select is((select allowed from private.rate_limit_hit((select k from t_key), 5, 3600)), false, 'still refused');
select is((select tat from private.rate_limits where key = (select k from t_key)), (select tat from t_before),
  'a refusal leaves the state unchanged');

-- another limit or window for the same key starts a fresh bucket
select is((select remaining from private.rate_limit_hit((select k from t_key), 10, 3600)), 9,
  'a changed limit starts a fresh bucket');

-- once the stored arrival time has passed, the quota is full again
update private.rate_limits set tat = 0, expires_at = now() - interval '1 second' where key = (select k from t_key);
select is((select allowed from private.rate_limit_hit((select k from t_key), 10, 3600)), true,
  'expired state admits again');

-- purge deletes expired rows only
insert into private.rate_limits (key, tat, lim, window_s, admitted, expires_at)
values ('test:expired-a', 0, 1, 60, true, now() - interval '1 minute'),
       ('test:expired-b', 0, 1, 60, true, now() - interval '1 hour');
select is(private.rate_limit_purge() >= 2, true, 'purge deletes expired rows');
select is((select count(*)::int from private.rate_limits where key like 'test:expired-%'), 0, 'expired rows are gone');
select is((select count(*)::int from private.rate_limits where key = (select k from t_key)), 1, 'live rows stay');

-- bad arguments are refused with invalid_parameter_value, not stored
select throws_ok($$ select * from private.rate_limit_hit('', 1, 60) $$, '22023', null, 'empty key refused');
select throws_ok($$ select * from private.rate_limit_hit('k', 0, 60) $$, '22023', null, 'limit 0 refused');

select * from finish();
rollback;
