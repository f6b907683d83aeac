-- edgeguard: what the `audit` function reads (docs/database.md, "Audit API"):
-- the tenant's audit log for holders of `audit:read`, the chain check with
-- its checkpoints, and hourly security metrics from a rollup the scheduler
-- refreshes.
--
-- Who may read: a member of the tenant whose role holds `audit:read` in
-- public.role_permissions (admins by default; a project may grant it lower
-- down the ladder). The database decides from the membership it holds now,
-- not from the token: a demoted admin stops reading at once.
--
-- Metrics: public.security_metrics_hourly (20261123000400_events.sql) counts
-- by type and severity from the live events, which retention deletes after
-- 90 days and which carry no route or code column. The rollup
-- private.security_metrics_hourly_rollup keeps counts per tenant, hour, type,
-- route and code after the events are gone; private.refresh_security_metrics()
-- recomputes the last 24 hours (retention never deletes events younger than
-- 2 days, 20261202000700_retention.sql) and runs on the same schedule as
-- private.apply_retention.

-- Who holds a permission ------------------------------------------------------

-- Tenants where the caller's role holds p_permission (a role holds the grants
-- of every role below it; `resource:*` covers every action of the resource).
create or replace function private.tenant_ids_with_permission(p_permission text)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.tenant_id
  from public.tenant_members m
  join public.roles r on r.name = m.role
  where m.user_id = (select auth.uid())
    and exists (
      select 1 from public.role_permissions rp join public.roles gr on gr.name = rp.role
      where gr.rank <= r.rank
        and (rp.permission = p_permission or rp.permission = split_part(p_permission, ':', 1) || ':*'));
$$;
comment on function private.tenant_ids_with_permission(text) is
  'edgeguard: tenants where the caller''s role holds the permission (inherited up the ladder)';

create or replace function private.has_tenant_permission(p_tenant_id uuid, p_permission text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select p_tenant_id in (select private.tenant_ids_with_permission(p_permission));
$$;
comment on function private.has_tenant_permission(uuid, text) is
  'edgeguard: whether the caller''s role in the tenant holds the permission';

-- audit:read holders read their tenant's chain (the admin policy stays).
create policy audit_logs_select_audit_read on public.audit_logs for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_permission('audit:read')));

-- Verification for the caller -------------------------------------------------

-- verify_audit_chain of a tenant for a holder of audit:read, run as the owner
-- so every checkpoint is compared, plus what the checkpoints cover.
create or replace function private.verify_tenant_audit(p_tenant_id uuid)
returns table (valid boolean, rows_checked bigint, first_broken_id bigint, first_broken_seq bigint,
               reason text, head_seq bigint, checkpoints bigint, last_checkpoint_seq bigint,
               last_checkpoint_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_tenant_id is null or not private.has_tenant_permission(p_tenant_id, 'audit:read') then
    raise exception 'verify_tenant_audit: not allowed' using errcode = '42501';
  end if;
  return query
  select v.valid, v.rows_checked, v.first_broken_id, v.first_broken_seq, v.reason,
         (select h.seq from private.audit_chain_heads h where h.chain_id = p_tenant_id),
         (select count(*) from private.audit_checkpoints k where k.chain_id = p_tenant_id),
         (select max(k.seq) from private.audit_checkpoints k where k.chain_id = p_tenant_id),
         (select to_timestamp(max(k.signed_at_ms) / 1000.0) from private.audit_checkpoints k
          where k.chain_id = p_tenant_id)
  from public.verify_audit_chain(p_tenant_id) v;
end;
$$;
comment on function private.verify_tenant_audit(uuid) is
  'edgeguard: verify_audit_chain of a tenant (checkpoints included) for holders of audit:read';

-- Tenant of a security event ----------------------------------------------------

-- The guard records denials with the verified user (actor) but no tenant;
-- such an event belongs to the actor's tenant when the actor is a member of
-- exactly one (a member of several stays project-wide).
create or replace function private.security_events_attribute_tenant()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.tenant_id is null and new.actor_id is not null then
    select min(m.tenant_id::text)::uuid into new.tenant_id
    from public.tenant_members m where m.user_id = new.actor_id
    having count(*) = 1;
  end if;
  return new;
end;
$$;
create trigger security_events_attribute_tenant before insert on public.security_events
  for each row execute function private.security_events_attribute_tenant();

-- Hourly rollup -------------------------------------------------------------------

create table private.security_metrics_hourly_rollup (
  -- the nil uuid for project-wide events (no tenant)
  tenant_id uuid not null,
  hour timestamptz not null,
  event_type text not null,
  route text not null,
  code text not null,
  events bigint not null check (events >= 0),
  refreshed_at timestamptz not null default now(),
  primary key (tenant_id, hour, event_type, route, code)
);
comment on table private.security_metrics_hourly_rollup is
  'edgeguard: security events per tenant, hour, type, route and code; kept after retention deletes the events';
create index security_metrics_hourly_rollup_hour_idx on private.security_metrics_hourly_rollup (hour);
alter table private.security_metrics_hourly_rollup enable row level security;
revoke all on table private.security_metrics_hourly_rollup from public, anon, authenticated, service_role;

-- The code of an event: the SPEC code the guard answered with.
create or replace function private.security_event_code(p_event_type text, p_details jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select left(coalesce(p_details ->> 'code', case p_event_type when 'rate_limited' then 'RATE_LIMITED' end, ''), 64);
$$;

-- Recomputes the rollup's hours from p_since (default: the last 24 hours) out
-- of public.security_events; older hours keep their counts. Returns the
-- number of rollup rows written.
create or replace function private.refresh_security_metrics(p_since timestamptz default now() - interval '24 hours')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_from timestamptz := date_trunc('hour', coalesce(p_since, now() - interval '24 hours'));
  v_n bigint;
begin
  perform pg_advisory_xact_lock(hashtextextended('edgeguard.security_metrics', 0));
  delete from private.security_metrics_hourly_rollup r where r.hour >= v_from;
  insert into private.security_metrics_hourly_rollup (tenant_id, hour, event_type, route, code, events)
  select coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), date_trunc('hour', e.occurred_at),
         e.event_type, left(coalesce(e.details ->> 'route', ''), 200),
         private.security_event_code(e.event_type, e.details), count(*)
  from public.security_events e
  where e.occurred_at >= v_from
  group by 1, 2, 3, 4, 5;
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
comment on function private.refresh_security_metrics(timestamptz) is
  'edgeguard: recomputes the hourly security metrics rollup from p_since (default 24 hours); call it with apply_retention';

-- The rollup of a tenant for a holder of audit:read, from p_from to p_to.
create or replace function private.tenant_security_metrics(p_tenant_id uuid, p_from timestamptz, p_to timestamptz)
returns table (hour timestamptz, event_type text, route text, code text, events bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_tenant_id is null or not private.has_tenant_permission(p_tenant_id, 'audit:read') then
    raise exception 'tenant_security_metrics: not allowed' using errcode = '42501';
  end if;
  return query
  select r.hour, r.event_type, r.route, r.code, r.events
  from private.security_metrics_hourly_rollup r
  where r.tenant_id = p_tenant_id and r.hour >= date_trunc('hour', p_from) and r.hour < p_to
  order by r.hour, r.event_type, r.route, r.code;
end;
$$;
comment on function private.tenant_security_metrics(uuid, timestamptz, timestamptz) is
  'edgeguard: hourly security metrics of a tenant from the rollup, for holders of audit:read';

-- Privileges ------------------------------------------------------------------------

revoke all on function private.tenant_ids_with_permission(text), private.has_tenant_permission(uuid, text),
  private.verify_tenant_audit(uuid), private.security_events_attribute_tenant(),
  private.security_event_code(text, jsonb), private.refresh_security_metrics(timestamptz),
  private.tenant_security_metrics(uuid, timestamptz, timestamptz)
  from public, anon, authenticated, service_role;
grant execute on function private.tenant_ids_with_permission(text), private.has_tenant_permission(uuid, text),
  private.verify_tenant_audit(uuid), private.tenant_security_metrics(uuid, timestamptz, timestamptz)
  to authenticated, service_role;
grant execute on function private.refresh_security_metrics(timestamptz) to service_role;
