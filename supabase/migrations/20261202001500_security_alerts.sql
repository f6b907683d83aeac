-- edgeguard: security alerts (docs/alerts.md).
--
-- private.security_alert_rules says what is worth an alert (thresholds,
-- windows; the service role may change them). private.detect_security_alerts
-- looks at public.security_events and the audit chains and writes what
-- crosses a threshold into the outbox private.security_alerts, at most once
-- per rule, tenant, subject and window. The `audit` function's
-- `POST /audit/alerts/deliver` runs the detection, claims due alerts
-- (private.claim_security_alerts), signs and POSTs each to
-- SECURITY_WEBHOOK_URL and records the outcome
-- (private.record_security_alert_attempt): retried with exponential backoff,
-- given up after 8 attempts. The signing secret never enters the database.
-- A scheduler calls the route every minute (pg_cron + pg_net on hosted
-- Supabase, docs/alerts.md; the local stack's server locally).

-- Rules -------------------------------------------------------------------------

create table private.security_alert_rules (
  rule text primary key check (rule in ('auth_failures', 'bad_signatures', 'rate_limited', 'audit_chain')),
  alert_type text not null unique check (alert_type ~ '^security\.[a-z][a-z0-9_]{0,54}$'),
  enabled boolean not null default true,
  -- events in the window that make an alert (audit_chain: any broken chain)
  threshold integer not null check (threshold between 1 and 1000000),
  -- the counting window, and the shortest time between two alerts of one subject
  window_s integer not null check (window_s between 60 and 86400),
  description text not null,
  updated_at timestamptz not null default now()
);
comment on table private.security_alert_rules is
  'edgeguard: thresholds of the security alerts; applied by private.detect_security_alerts (docs/alerts.md)';

create trigger set_updated_at before update on private.security_alert_rules
  for each row execute function private.set_updated_at();

alter table private.security_alert_rules enable row level security;
revoke all on table private.security_alert_rules from public, anon, authenticated, service_role;
-- the service tunes thresholds (service_role bypasses RLS); rules are never added or removed
grant select, update (enabled, threshold, window_s) on table private.security_alert_rules to service_role;

insert into private.security_alert_rules (rule, alert_type, enabled, threshold, window_s, description) values
  ('auth_failures', 'security.auth_failures', true, 20, 300,
   'auth_denied events on one route of one tenant (or project-wide) within the window'),
  ('bad_signatures', 'security.bad_signatures', true, 10, 300,
   'webhook deliveries refused for their signature on one endpoint within the window'),
  ('rate_limited', 'security.rate_limited', false, 50, 300,
   'rate_limited events on one route of one tenant (or project-wide) within the window'),
  ('audit_chain', 'security.audit_chain', true, 1, 3600,
   'an audit chain fails verify_audit_chain (re-sent once per window while it stays broken)');

-- Outbox ------------------------------------------------------------------------

create table private.security_alerts (
  id uuid primary key default gen_random_uuid(),
  rule text not null references private.security_alert_rules (rule),
  alert_type text not null,
  -- the tenant, or the nil uuid for project-wide alerts
  scope uuid not null,
  -- what crossed the threshold within the scope: a route, an endpoint, a chain
  subject text not null check (char_length(subject) between 1 and 200),
  -- the fixed window (rule.window_s long) the alert belongs to
  window_start timestamptz not null,
  window_end timestamptz not null,
  detected_at timestamptz not null,
  -- the alert's data as sent: rule, threshold, window, counts, tenant; no secret, token or IP
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null,
  last_attempt_at timestamptz,
  -- the receiver's HTTP status of the last attempt (null: no answer)
  last_status integer,
  last_error text check (char_length(last_error) <= 200),
  delivered_at timestamptz,
  failed_at timestamptz,
  constraint security_alerts_once_per_window unique (rule, scope, subject, window_start)
);
comment on table private.security_alerts is
  'edgeguard: outbox of security alerts, one per rule, tenant, subject and window; delivered signed by the audit function';
create index security_alerts_due_idx on private.security_alerts (next_attempt_at) where status = 'pending';
create index security_alerts_recent_idx on private.security_alerts (rule, scope, subject, detected_at desc);
create index security_alerts_detected_at_idx on private.security_alerts (detected_at);

alter table private.security_alerts enable row level security;
revoke all on table private.security_alerts from public, anon, authenticated, service_role;
-- the service reads the outbox for operations; only the functions below write it
grant select on table private.security_alerts to service_role;

-- Detection ---------------------------------------------------------------------

-- What each enabled rule finds in (p_from, p_to]: one row per scope and
-- subject with its event count and the details that go into the payload.
create or replace function private.security_alert_candidates(p_rule text, p_from timestamptz, p_to timestamptz)
returns table (scope uuid, subject text, events bigint, details jsonb)
language sql
stable
security definer
set search_path = ''
as $$
  -- auth_denied / rate_limited: per tenant and route, with counts per code or rule
  with counted as (
    select coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) as scope,
           left(coalesce(nullif(e.details ->> 'route', ''), '(no route)'), 200) as subject,
           left(coalesce(case when p_rule = 'rate_limited' then e.details ->> 'rule' else e.details ->> 'code' end, ''), 64)
             as kind,
           count(*) as n
    from public.security_events e
    where p_rule in ('auth_failures', 'rate_limited')
      and e.event_type = case p_rule when 'auth_failures' then 'auth_denied' else 'rate_limited' end
      and e.occurred_at > p_from and e.occurred_at <= p_to
    group by 1, 2, 3
  )
  select c.scope, c.subject, sum(c.n)::bigint,
         jsonb_build_object('route', c.subject,
                            case when p_rule = 'rate_limited' then 'by_rule' else 'by_code' end,
                            jsonb_object_agg(c.kind, c.n))
  from counted c
  group by c.scope, c.subject
  union all
  -- bad_signatures: per endpoint (deliveries carry no tenant)
  select '00000000-0000-0000-0000-000000000000'::uuid,
         left(coalesce(nullif(e.details ->> 'endpoint', ''), '(unknown)'), 200),
         count(*),
         jsonb_build_object('endpoint', left(coalesce(nullif(e.details ->> 'endpoint', ''), '(unknown)'), 200),
                            'route', min(e.details ->> 'route'))
  from public.security_events e
  where p_rule = 'bad_signatures'
    and e.event_type = 'webhook_signature_invalid'
    and e.occurred_at > p_from and e.occurred_at <= p_to
  group by 2
  union all
  -- audit_chain: every chain that fails verification (the global chain is the nil uuid)
  select h.chain_id, 'audit_chain', 1::bigint,
         jsonb_build_object('chain_id', h.chain_id, 'reason', v.reason, 'first_broken_seq', v.first_broken_seq,
                            'rows_checked', v.rows_checked)
  from private.audit_chain_heads h
  cross join lateral public.verify_audit_chain(
    nullif(h.chain_id, '00000000-0000-0000-0000-000000000000'::uuid)) v
  where p_rule = 'audit_chain' and not v.valid;
$$;
comment on function private.security_alert_candidates(text, timestamptz, timestamptz) is
  'edgeguard: what one alert rule finds between two instants (scope, subject, events, details)';

-- Runs every enabled rule as of p_now and writes what crosses its threshold
-- into the outbox; returns the alerts written. Counting is over the sliding
-- window (p_now - window_s, p_now]. An alert belongs to the fixed window
-- containing p_now (unique per rule, scope, subject and window), and a
-- subject that alerted less than window_s ago is not alerted again, so a
-- burst that spans two fixed windows is one alert. Delivered and failed
-- alerts older than 30 days are removed.
create or replace function private.detect_security_alerts(p_now timestamptz default now())
returns setof private.security_alerts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  r private.security_alert_rules;
  v_window interval;
  v_start timestamptz;
begin
  if p_now is null then
    raise exception 'detect_security_alerts: p_now is required' using errcode = '22023';
  end if;
  -- one detection at a time (the scheduler of two servers, or a slow run)
  perform pg_advisory_xact_lock(hashtextextended('edgeguard.security_alerts', 0));
  delete from private.security_alerts a
  where a.status <> 'pending' and a.detected_at < p_now - interval '30 days';

  for r in select * from private.security_alert_rules x where x.enabled order by x.rule loop
    v_window := make_interval(secs => r.window_s);
    v_start := to_timestamp(floor(extract(epoch from p_now) / r.window_s) * r.window_s);
    return query
    with found as (
      select c.* from private.security_alert_candidates(r.rule, p_now - v_window, p_now) c
      where c.events >= r.threshold
        and not exists (
          select 1 from private.security_alerts a
          where a.rule = r.rule and a.scope = c.scope and a.subject = c.subject
            and a.detected_at > p_now - v_window)
    ), written as (
      insert into private.security_alerts as a (rule, alert_type, scope, subject, window_start, window_end,
                                                detected_at, next_attempt_at, payload)
      select r.rule, r.alert_type, f.scope, f.subject, v_start, v_start + v_window, p_now, p_now,
             jsonb_build_object(
               'rule', r.rule,
               'threshold', r.threshold,
               'events', f.events,
               'window', jsonb_build_object('start', p_now - v_window, 'end', p_now, 'seconds', r.window_s),
               'tenant_id', nullif(f.scope, '00000000-0000-0000-0000-000000000000'::uuid)) || f.details
      from found f
      on conflict on constraint security_alerts_once_per_window do nothing
      returning a.*
    )
    select * from written;
  end loop;
end;
$$;
comment on function private.detect_security_alerts(timestamptz) is
  'edgeguard: applies private.security_alert_rules as of p_now; returns the alerts written to the outbox';

-- Delivery ----------------------------------------------------------------------

-- The wait after the n-th failed attempt: 30 s, doubling, at most one hour.
create or replace function private.security_alert_backoff(p_attempt integer)
returns interval
language sql
immutable
set search_path = ''
as $$
  select least(interval '30 seconds' * power(2, greatest(p_attempt, 1) - 1), interval '1 hour');
$$;
comment on function private.security_alert_backoff(integer) is
  'edgeguard: wait before retrying an alert after its n-th attempt (30 s doubling, at most 1 hour)';

-- Claims up to p_limit due alerts for one delivery run: counts the attempt
-- and moves next_attempt_at by the backoff before anything is sent, so a
-- run that dies mid-way retries later and two runs never send one alert at
-- once. Alerts whose last attempt was the p_max_attempts-th and got no
-- answer, and pending alerts detected more than a day ago, are given up.
create or replace function private.claim_security_alerts(p_now timestamptz default now(), p_limit integer default 20,
                                                         p_max_attempts integer default 8)
returns table (id uuid, alert_type text, detected_at timestamptz, attempts integer, payload jsonb)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_now is null or p_limit not between 1 and 100 or p_max_attempts not between 1 and 50 then
    raise exception 'claim_security_alerts: arguments out of range' using errcode = '22023';
  end if;
  update private.security_alerts a
     set status = 'failed', failed_at = p_now,
         last_error = case when a.attempts >= p_max_attempts
                           then coalesce(a.last_error, 'no outcome recorded') else 'expired before delivery' end
   where a.status = 'pending' and a.next_attempt_at <= p_now
     and (a.attempts >= p_max_attempts or a.detected_at < p_now - interval '1 day');
  return query
  with due as (
    select a.id from private.security_alerts a
    where a.status = 'pending' and a.next_attempt_at <= p_now
    order by a.next_attempt_at, a.detected_at
    limit p_limit
    for update skip locked
  )
  update private.security_alerts a
     set attempts = a.attempts + 1, last_attempt_at = p_now,
         next_attempt_at = p_now + private.security_alert_backoff(a.attempts + 1)
  from due
  where a.id = due.id
  returning a.id, a.alert_type, a.detected_at, a.attempts, a.payload;
end;
$$;
comment on function private.claim_security_alerts(timestamptz, integer, integer) is
  'edgeguard: claims due alerts for one delivery run (counts the attempt, schedules the retry)';

-- Records the outcome of an attempt: delivered (a 2xx answer), or failed with
-- the receiver's status (null: no answer) and a short reason; the
-- p_max_attempts-th failure gives the alert up. Returns the new status.
create or replace function private.record_security_alert_attempt(p_id uuid, p_delivered boolean, p_http_status integer,
                                                                 p_error text, p_now timestamptz default now(),
                                                                 p_max_attempts integer default 8)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_status text;
begin
  if p_id is null or p_delivered is null or p_now is null then
    raise exception 'record_security_alert_attempt: id, outcome and time are required' using errcode = '22023';
  end if;
  update private.security_alerts a
     set status = case when p_delivered then 'delivered'
                       when a.attempts >= p_max_attempts then 'failed' else 'pending' end,
         delivered_at = case when p_delivered then p_now end,
         failed_at = case when not p_delivered and a.attempts >= p_max_attempts then p_now end,
         last_status = p_http_status,
         last_error = case when p_delivered then null else left(coalesce(p_error, 'failed'), 200) end
   where a.id = p_id and a.status = 'pending'
  returning a.status into v_status;
  return v_status;
end;
$$;
comment on function private.record_security_alert_attempt(uuid, boolean, integer, text, timestamptz, integer) is
  'edgeguard: records a delivery attempt of an alert (delivered, retry later, or given up)';

-- Privileges ----------------------------------------------------------------------

revoke all on function private.security_alert_candidates(text, timestamptz, timestamptz),
  private.detect_security_alerts(timestamptz), private.security_alert_backoff(integer),
  private.claim_security_alerts(timestamptz, integer, integer),
  private.record_security_alert_attempt(uuid, boolean, integer, text, timestamptz, integer)
  from public, anon, authenticated, service_role;
grant execute on function private.detect_security_alerts(timestamptz),
  private.claim_security_alerts(timestamptz, integer, integer),
  private.record_security_alert_attempt(uuid, boolean, integer, text, timestamptz, integer)
  to service_role;
