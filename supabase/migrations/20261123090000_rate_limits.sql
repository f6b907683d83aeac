-- Rate limits that must hold globally (across isolates, processes and
-- regions): the Postgres half of edgeguard's limiter. The in-isolate limiter
-- (wasm) handles every other rule; a rule marked `"global": true` in a
-- function's policy is counted here instead.
--
-- Algorithm: GCRA, as in the in-isolate limiter (crates/edgeguard-core/src/
-- ratelimit.rs): `limit` requests per `window_s` admit a burst of `limit`,
-- then one request every window_s/limit. Times are integers (milliseconds
-- since the epoch multiplied by the limit), so the arithmetic is exact, and
-- the database clock is the only clock every caller uses.
--
-- Exactness: each check is one `insert ... on conflict do update ...
-- returning`. Concurrent checks of one key serialise on that key's row lock,
-- so of any number of concurrent requests on a fresh key exactly `limit` pass.
-- `now` is read when a check starts: a check that waited for the row lock is
-- judged at its start time, which can only make it stricter, never lenient.
--
-- Keys are opaque (`<rule>:<hex>`, a hash computed in wasm): no IP address,
-- user id or API key is stored in clear.

create schema if not exists private;

create table private.rate_limits (
  key text primary key check (char_length(key) between 1 and 200),
  -- theoretical arrival time: milliseconds since the epoch, times `lim`
  tat bigint not null,
  lim integer not null check (lim between 1 and 1000000),
  window_s integer not null check (window_s between 1 and 604800),
  -- whether the last check of this key was admitted (read back by RETURNING)
  admitted boolean not null,
  -- once past, the row is equivalent to no row (the quota is full again)
  expires_at timestamptz not null
);

comment on table private.rate_limits is
  'edgeguard: global rate-limit state (GCRA); written only by private.rate_limit_hit';

create index rate_limits_expires_at_idx on private.rate_limits (expires_at);

-- Nobody reads or writes the state directly: RLS on, no policies, no grants.
alter table private.rate_limits enable row level security;
revoke all on table private.rate_limits from public;

-- Checks and counts one request against one key.
--   allowed        whether the request may proceed (a refused one consumes nothing)
--   remaining      requests left in the window after this one
--   reset_s        seconds until the quota is full again
--   retry_after_s  seconds until a request would pass (0 when allowed)
create or replace function private.rate_limit_hit(p_key text, p_limit integer, p_window_s integer)
returns table (allowed boolean, remaining integer, reset_s bigint, retry_after_s bigint)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now bigint;   -- now, scaled by the limit
  v_em bigint;    -- the cost of one request (window in ms), scaled
  v_span bigint;  -- the whole window, scaled
  v_tat bigint;
  v_ok boolean;
begin
  if p_key is null or char_length(p_key) not between 1 and 200 then
    raise exception 'rate_limit_hit: key must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 1000000 then
    raise exception 'rate_limit_hit: limit must be 1 to 1000000' using errcode = '22023';
  end if;
  if p_window_s is null or p_window_s not between 1 and 604800 then
    raise exception 'rate_limit_hit: window must be 1 to 604800 seconds' using errcode = '22023';
  end if;
  v_now := floor(extract(epoch from clock_timestamp()) * 1000)::bigint * p_limit;
  v_em := p_window_s::bigint * 1000;
  v_span := v_em * p_limit;

  -- A new key (or one stored with another limit or window) starts full and
  -- admits this request. Otherwise the request is admitted when
  -- max(tat, now) + em - now <= span; a refused request leaves tat unchanged.
  insert into private.rate_limits as r (key, tat, lim, window_s, admitted, expires_at)
  values (p_key, v_now + v_em, p_limit, p_window_s, true,
          to_timestamp((v_now + v_em) / p_limit / 1000.0))
  on conflict (key) do update
    set tat = case
          when r.lim <> excluded.lim or r.window_s <> excluded.window_s then excluded.tat
          when greatest(r.tat, v_now) + v_em - v_now <= v_span then greatest(r.tat, v_now) + v_em
          else r.tat end,
        admitted = (r.lim <> excluded.lim or r.window_s <> excluded.window_s
                    or greatest(r.tat, v_now) + v_em - v_now <= v_span),
        lim = excluded.lim,
        window_s = excluded.window_s,
        expires_at = case
          when r.lim <> excluded.lim or r.window_s <> excluded.window_s then excluded.expires_at
          when greatest(r.tat, v_now) + v_em - v_now <= v_span
            then to_timestamp((greatest(r.tat, v_now) + v_em) / p_limit / 1000.0)
          else r.expires_at end
  returning r.tat, r.admitted into v_tat, v_ok;

  if v_ok then
    return query select true,
      ((v_span - (v_tat - v_now)) / v_em)::integer,
      ceil((v_tat - v_now)::numeric / (p_limit::bigint * 1000))::bigint,
      0::bigint;
  else
    return query select false,
      0,
      ceil(greatest(v_tat - v_now, 0)::numeric / (p_limit::bigint * 1000))::bigint,
      greatest(ceil(ceil((v_tat + v_em - v_span - v_now)::numeric / p_limit) / 1000), 1)::bigint;
  end if;
end;
$$;

comment on function private.rate_limit_hit(text, integer, integer) is
  'edgeguard: atomically checks and counts one request of a global rate limit (GCRA)';

-- Deletes state whose quota is full again (equivalent to no row). Safe to run
-- at any time, e.g. from pg_cron: select private.rate_limit_purge();
create or replace function private.rate_limit_purge()
returns bigint
language sql
volatile
security definer
set search_path = ''
as $$
  with gone as (
    delete from private.rate_limits where expires_at < clock_timestamp() returning 1
  )
  select count(*) from gone;
$$;

comment on function private.rate_limit_purge() is
  'edgeguard: deletes expired global rate-limit state; returns the number of rows deleted';

revoke all on function private.rate_limit_hit(text, integer, integer) from public;
revoke all on function private.rate_limit_purge() from public;

-- Only service_role (and the owner) may call the limiter. The Supabase roles
-- always exist on Supabase; on plain Postgres the bootstrap creates them.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    -- Supabase may grant new functions to the API roles by default privileges.
    revoke all on function private.rate_limit_hit(text, integer, integer) from anon, authenticated;
    revoke all on function private.rate_limit_purge() from anon, authenticated;
    revoke all on table private.rate_limits from anon, authenticated, service_role;
    grant usage on schema private to service_role;
    grant execute on function private.rate_limit_hit(text, integer, integer) to service_role;
    grant execute on function private.rate_limit_purge() to service_role;
  end if;
end;
$$;
