-- edgeguard: data retention (docs/database.md, "Retention").
--
-- private.retention_policies says how long each kind of row is kept;
-- private.apply_retention(p_now) removes what is older and returns what it
-- removed per table. A scheduler calls it (pg_cron on hosted Supabase, the
-- local stack's server every 10 minutes):
--
--   select cron.schedule('edgeguard-retention', '*/15 * * * *', 'select private.apply_retention()');
--
-- What "removed" means per table:
--   public.security_events       rows deleted (the hourly rollup of
--                                private.security_metrics_hourly_rollup keeps
--                                their counts; never less than 2 days)
--   public.webhook_events        the body (payload) dropped, the row and its
--                                payload_sha256 kept: de-duplication by event id
--                                and, for GitHub and Shopify, by body hash still
--                                refuses a replay (20261123091000_webhooks.sql)
--   private.rate_limits          state expired for longer than the interval
--                                (an expired row is the same as no row)
--   private.password_failures    counts whose last failure is older and whose
--                                lock-out is over (a locked user stays locked)
--   private.auth_hook_deliveries answers older than the interval (never less
--                                than one hour: replays must still be answered once)
--   public.audit_logs            the personal fields of format-2 rows redacted
--                                with private.audit_redact_rows (the redaction
--                                erasure uses: hashes, links and checkpoints do
--                                not change, the chain still verifies); rows are
--                                never deleted and format-1 rows are left as they
--                                are (docs/privacy.md). A run that redacts appends
--                                one `retention.redacted` event to the global chain.

create table private.retention_policies (
  table_name text primary key check (table_name in (
    'public.security_events', 'public.webhook_events', 'private.rate_limits',
    'private.password_failures', 'private.auth_hook_deliveries', 'public.audit_logs')),
  keep interval not null check (keep >= interval '0'),
  enabled boolean not null default true,
  description text not null,
  updated_at timestamptz not null default now()
);
comment on table private.retention_policies is
  'edgeguard: how long each kind of row is kept; applied by private.apply_retention (docs/database.md)';

create trigger set_updated_at before update on private.retention_policies
  for each row execute function private.set_updated_at();

alter table private.retention_policies enable row level security;
revoke all on table private.retention_policies from public, anon, authenticated, service_role;

insert into private.retention_policies (table_name, keep, description) values
  ('public.security_events', interval '90 days', 'security events deleted (hourly counts stay in the rollup)'),
  ('public.webhook_events', interval '7 days', 'webhook bodies dropped; event id and body hash kept for de-duplication'),
  ('private.rate_limits', interval '1 hour', 'global rate-limit state expired for longer than this'),
  ('private.password_failures', interval '1 day', 'password failure counts whose lock-out is over'),
  ('private.auth_hook_deliveries', interval '1 day', 'first answers to Supabase Auth hook deliveries (at least one hour)'),
  ('public.audit_logs', interval '400 days', 'personal fields of format-2 audit rows redacted; the chain still verifies');

-- Applies every enabled policy once, as of p_now. Returns one row per
-- enabled policy: the table, what was done and how many rows.
create or replace function private.apply_retention(p_now timestamptz default now())
returns table (table_name text, action text, removed bigint)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_keep jsonb;
  v_cutoff timestamptz;
  v_n bigint;
  v_ids bigint[];
begin
  if p_now is null then
    raise exception 'apply_retention: p_now is required' using errcode = '22023';
  end if;
  -- one run at a time (two schedulers, or a slow run overlapping the next)
  perform pg_advisory_xact_lock(hashtextextended('edgeguard.retention', 0));
  select coalesce(jsonb_object_agg(p.table_name, p.keep), '{}'::jsonb) into v_keep
  from private.retention_policies p where p.enabled;

  if v_keep ? 'public.security_events' then
    v_cutoff := p_now - greatest((v_keep ->> 'public.security_events')::interval, interval '2 days');
    delete from public.security_events e where e.occurred_at < v_cutoff;
    get diagnostics v_n = row_count;
    return query select 'public.security_events'::text, 'deleted'::text, v_n;
  end if;

  if v_keep ? 'public.webhook_events' then
    v_cutoff := p_now - (v_keep ->> 'public.webhook_events')::interval;
    update public.webhook_events w set payload = null
    where w.received_at < v_cutoff and w.payload is not null;
    get diagnostics v_n = row_count;
    return query select 'public.webhook_events'::text, 'payload_dropped'::text, v_n;
  end if;

  if v_keep ? 'private.rate_limits' then
    v_cutoff := p_now - (v_keep ->> 'private.rate_limits')::interval;
    delete from private.rate_limits r where r.expires_at < v_cutoff;
    get diagnostics v_n = row_count;
    return query select 'private.rate_limits'::text, 'deleted'::text, v_n;
  end if;

  if v_keep ? 'private.password_failures' then
    v_cutoff := p_now - (v_keep ->> 'private.password_failures')::interval;
    delete from private.password_failures f
    where f.last_failed_at < v_cutoff and (f.locked_until is null or f.locked_until <= p_now);
    get diagnostics v_n = row_count;
    return query select 'private.password_failures'::text, 'deleted'::text, v_n;
  end if;

  if v_keep ? 'private.auth_hook_deliveries' then
    v_cutoff := p_now - greatest((v_keep ->> 'private.auth_hook_deliveries')::interval, interval '1 hour');
    delete from private.auth_hook_deliveries d where d.created_at < v_cutoff;
    get diagnostics v_n = row_count;
    return query select 'private.auth_hook_deliveries'::text, 'deleted'::text, v_n;
  end if;

  if v_keep ? 'public.audit_logs' then
    v_cutoff := p_now - (v_keep ->> 'public.audit_logs')::interval;
    select coalesce(array_agg(r.id order by r.id), '{}') into v_ids
    from private.audit_redact_rows(array(
      select a.id from public.audit_logs a
      where a.row_format = 2 and a.redacted_at is null and a.occurred_at < v_cutoff)) r(id);
    if cardinality(v_ids) > 0 then
      -- the redaction's own record, as erasure's `account.erased` (docs/privacy.md):
      -- every format-2 row older than the cutoff, no personal field
      perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
      perform set_config('edgeguard.client_ip', '', true);
      perform set_config('edgeguard.user_agent', '', true);
      perform private.audit_event(null, 'retention.redacted', jsonb_build_object(
        'cutoff', v_cutoff, 'rows', cardinality(v_ids), 'first_id', v_ids[1],
        'last_id', v_ids[cardinality(v_ids)]));
    end if;
    return query select 'public.audit_logs'::text, 'redacted'::text, cardinality(v_ids)::bigint;
  end if;
end;
$$;
comment on function private.apply_retention(timestamptz) is
  'edgeguard: applies private.retention_policies as of p_now; returns what it removed per table (call it from a scheduler)';

revoke all on function private.apply_retention(timestamptz) from public, anon, authenticated;
grant execute on function private.apply_retention(timestamptz) to service_role;
