-- edgeguard: webhook deliveries, security events and password-failure counting.

-- Webhook events --------------------------------------------------------------
-- One row per provider delivery. De-duplication is the unique key: the
-- webhooks function inserts with `on conflict (provider, event_id) do nothing
-- returning id`; no row back means a duplicate (also under concurrent
-- deliveries: the second insert waits for the first and then conflicts).

create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('stripe', 'shopify', 'github', 'standard')),
  event_id text not null check (char_length(event_id) between 1 and 255),
  event_type text check (char_length(event_type) <= 255),
  status text not null default 'received' check (status in ('received', 'processed', 'failed')),
  payload_sha256 text check (payload_sha256 ~ '^[0-9a-f]{64}$'),
  payload jsonb,
  error_code text check (char_length(error_code) <= 100),
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint webhook_events_provider_event_id_key unique (provider, event_id)
);
comment on table public.webhook_events is
  'edgeguard: verified webhook deliveries, unique per provider + event id (idempotency); service only';
create index webhook_events_received_at_idx on public.webhook_events (received_at);
create index webhook_events_status_idx on public.webhook_events (status, received_at) where status <> 'processed';

create trigger set_updated_at before update on public.webhook_events
  for each row execute function private.set_updated_at();

alter table public.webhook_events enable row level security;
revoke all on table public.webhook_events from anon, authenticated;
-- Service only. The explicit restrictive policy documents that and keeps any
-- permissive policy added later from opening the table to clients.
create policy webhook_events_no_client_access on public.webhook_events
  as restrictive for all to anon, authenticated using (false) with check (false);

-- Security events ---------------------------------------------------------
-- Authentication failures, bad signatures, rate-limit refusals, lockouts…
-- written by the service (edgeguard's guard); read by tenant admins.

create table public.security_events (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  event_type text not null check (event_type ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
  severity text not null default 'warning' check (severity in ('info', 'notice', 'warning', 'error', 'critical')),
  tenant_id uuid references public.tenants (id) on delete set null,
  actor_id uuid references auth.users (id) on delete set null,
  ip inet,
  request_id text check (char_length(request_id) <= 200),
  user_agent text check (char_length(user_agent) <= 512),
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object' and pg_column_size(details) <= 16384)
);
comment on table public.security_events is
  'edgeguard: security-relevant events (auth failures, bad signatures, rate limits, lockouts); service writes, tenant admins read';
create index security_events_tenant_idx on public.security_events (tenant_id, occurred_at desc);
create index security_events_type_idx on public.security_events (event_type, occurred_at desc);
create index security_events_actor_idx on public.security_events (actor_id);
create index security_events_occurred_at_idx on public.security_events (occurred_at);

alter table public.security_events enable row level security;
revoke all on table public.security_events from anon, authenticated;
-- events are facts: the service appends, reads and deletes for retention, never edits
revoke update, truncate on table public.security_events from service_role;
grant select on table public.security_events to authenticated;
create policy security_events_select on public.security_events for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')));

-- Hourly security metrics of a tenant, with the caller's rights (RLS applies:
-- tenant admins see their tenant, the service any).
create or replace function public.security_metrics_hourly(p_tenant_id uuid, p_since timestamptz default now() - interval '24 hours')
returns table (hour timestamptz, event_type text, severity text, events bigint)
language sql
stable
set search_path = ''
as $$
  select date_trunc('hour', e.occurred_at), e.event_type, e.severity, count(*)
  from public.security_events e
  where e.tenant_id is not distinct from p_tenant_id and e.occurred_at >= p_since
  group by 1, 2, 3
  order by 1, 2, 3;
$$;
comment on function public.security_metrics_hourly(uuid, timestamptz) is
  'edgeguard: security events per hour, type and severity for a tenant (RLS applies)';
revoke all on function public.security_metrics_hourly(uuid, timestamptz) from public, anon;
grant execute on function public.security_metrics_hourly(uuid, timestamptz) to authenticated, service_role;

-- Password verification failures -------------------------------------------
-- Counted per user for the password-verification-attempt auth hook.

create table private.password_failures (
  user_id uuid primary key references auth.users (id) on delete cascade,
  failed_count integer not null check (failed_count >= 1),
  first_failed_at timestamptz not null,
  last_failed_at timestamptz not null,
  locked_until timestamptz
);
comment on table private.password_failures is
  'edgeguard: failed password attempts per user inside the current window; written only by private.password_attempt';
alter table private.password_failures enable row level security;
revoke all on table private.password_failures from public, anon, authenticated, service_role;

-- Records one password verification attempt and decides, atomically (the
-- user's row is locked):
--   locked (failed_count >= p_max_failures and locked_until > now)
--                  -> 'reject'; a failure while locked extends the lock
--   valid          -> 'continue'; the count is reset
--   invalid        -> counted (a window older than p_window_s starts over);
--                     reaching p_max_failures locks for p_lockout_s -> 'reject'
create or replace function private.password_attempt(
  p_user_id uuid,
  p_valid boolean,
  p_max_failures integer default 5,
  p_window_s integer default 900,
  p_lockout_s integer default 900,
  p_now timestamptz default clock_timestamp()
)
returns table (decision text, failed_count integer, locked_until timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_row private.password_failures;
  v_locked boolean;
begin
  if p_user_id is null or p_valid is null then
    raise exception 'password_attempt: user id and validity are required' using errcode = '22023';
  end if;
  if p_max_failures not between 1 and 1000 or p_window_s not between 1 and 604800
     or p_lockout_s not between 1 and 604800 then
    raise exception 'password_attempt: limits out of range' using errcode = '22023';
  end if;

  select * into v_row from private.password_failures f where f.user_id = p_user_id for update;
  v_locked := found and v_row.locked_until is not null and v_row.locked_until > p_now;

  if p_valid and not v_locked then
    delete from private.password_failures f where f.user_id = p_user_id;
    return query select 'continue'::text, 0, null::timestamptz;
    return;
  end if;

  if p_valid then
    -- correct password while locked: refused, and not counted
    return query select 'reject'::text, v_row.failed_count, v_row.locked_until;
    return;
  end if;

  insert into private.password_failures as f (user_id, failed_count, first_failed_at, last_failed_at)
  values (p_user_id, 1, p_now, p_now)
  on conflict (user_id) do update set
    failed_count = case when not v_locked and f.first_failed_at <= p_now - make_interval(secs => p_window_s)
                        then 1 else f.failed_count + 1 end,
    first_failed_at = case when not v_locked and f.first_failed_at <= p_now - make_interval(secs => p_window_s)
                           then p_now else f.first_failed_at end,
    last_failed_at = p_now,
    locked_until = case when not v_locked and f.first_failed_at <= p_now - make_interval(secs => p_window_s)
                        then null else f.locked_until end
  returning * into v_row;

  if v_row.failed_count >= p_max_failures then
    update private.password_failures f
       set locked_until = p_now + make_interval(secs => p_lockout_s)
     where f.user_id = p_user_id
    returning * into v_row;
    return query select 'reject'::text, v_row.failed_count, v_row.locked_until;
    return;
  end if;
  return query select 'continue'::text, v_row.failed_count, null::timestamptz;
end;
$$;
comment on function private.password_attempt(uuid, boolean, integer, integer, integer, timestamptz) is
  'edgeguard: counts a password verification attempt and decides continue/reject (lockout); service only';
revoke all on function private.password_attempt(uuid, boolean, integer, integer, integer, timestamptz)
  from public, anon, authenticated;
grant execute on function private.password_attempt(uuid, boolean, integer, integer, integer, timestamptz)
  to service_role;
