-- Recipe "AI sales assistant" (examples/ai-sales-assistant/README.md): usage
-- quotas per tenant and the leads of the public website form, on top of
-- edgeguard's tenants (supabase/migrations). Same conventions as ours
-- (docs/database.md): RLS on every table, policies `to authenticated` with
-- `(select auth.uid())` through `private` helpers, an index on every policy
-- column, helpers with `set search_path = ''`.

-- Plans: the monthly quota of cost units (e.g. AI tokens) ---------------------

create table public.usage_plans (
  name text primary key check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  monthly_units bigint not null check (monthly_units between 0 and 1000000000000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.usage_plans is
  'recipe ai-sales-assistant: plans and their monthly quota of cost units; a tenant without a plan is on "free"';

insert into public.usage_plans (name, monthly_units) values
  ('free', 10000), ('pro', 1000000), ('enterprise', 50000000);

create table public.tenant_plans (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  plan text not null references public.usage_plans (name) on update cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tenant_plans is
  'recipe ai-sales-assistant: the plan of a tenant (written by the service, e.g. a billing webhook handler)';
create index tenant_plans_plan_idx on public.tenant_plans (plan);

-- What a tenant has used in one calendar month (UTC). Written only by
-- private.charge_usage, read by the tenant's members.
create table public.usage_counters (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  period_start timestamptz not null,
  used bigint not null default 0 check (used >= 0),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, period_start)
);
comment on table public.usage_counters is
  'recipe ai-sales-assistant: cost units used per tenant and month; charged atomically by private.charge_usage';

create trigger set_updated_at before update on public.usage_plans
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenant_plans
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.usage_counters
  for each row execute function private.set_updated_at();

-- Leads posted by the public website form (publishable key, per-IP limits) ----

create table public.sales_leads (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  email text not null check (char_length(email) between 3 and 320),
  name text not null check (char_length(name) between 1 and 200),
  message text not null default '' check (char_length(message) <= 2000),
  created_at timestamptz not null default now()
);
comment on table public.sales_leads is
  'recipe ai-sales-assistant: leads from the public form; inserted by the service, read by tenant moderators and admins';
create index sales_leads_tenant_idx on public.sales_leads (tenant_id, created_at desc);

-- RLS --------------------------------------------------------------------------

alter table public.usage_plans enable row level security;
alter table public.tenant_plans enable row level security;
alter table public.usage_counters enable row level security;
alter table public.sales_leads enable row level security;

revoke all on table public.usage_plans, public.tenant_plans, public.usage_counters, public.sales_leads
  from anon, authenticated;
grant select on table public.usage_plans, public.tenant_plans, public.usage_counters, public.sales_leads
  to authenticated;

-- doctor: allow sql.permissive_policy the plan catalogue (names and monthly units) is public pricing
create policy usage_plans_select on public.usage_plans for select to authenticated using (true);

create policy tenant_plans_select_member on public.tenant_plans for select to authenticated
  using (tenant_id in (select private.member_tenant_ids()));

create policy usage_counters_select_member on public.usage_counters for select to authenticated
  using (tenant_id in (select private.member_tenant_ids()));

create policy sales_leads_select_moderator on public.sales_leads for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('moderator')));

-- The period: calendar months in UTC -------------------------------------------

create or replace function private.usage_period(p_at timestamptz default now(),
  out period_start timestamptz, out reset_at timestamptz)
language sql
immutable
set search_path = ''
as $$
  select date_trunc('month', p_at at time zone 'UTC') at time zone 'UTC',
         (date_trunc('month', p_at at time zone 'UTC') + interval '1 month') at time zone 'UTC';
$$;
comment on function private.usage_period(timestamptz) is
  'recipe ai-sales-assistant: the calendar month (UTC) holding p_at, and when the next one starts';

-- Charging: one atomic statement, exact under concurrency ----------------------
-- The counter row of (tenant, month) is created or increased by a single
-- INSERT … ON CONFLICT DO UPDATE … WHERE used + units <= quota. Concurrent
-- charges serialise on that row's lock and each re-evaluates the WHERE on the
-- latest committed value (READ COMMITTED), so the sum of admitted charges never
-- exceeds the quota; a refused charge changes nothing (all or nothing).

create or replace function private.charge_usage(p_tenant_id uuid, p_units bigint, p_at timestamptz default now())
returns table (charged boolean, plan text, quota bigint, used bigint, remaining bigint,
               period_start timestamptz, reset_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_period timestamptz;
  v_reset timestamptz;
  v_plan text;
  v_quota bigint;
  v_used bigint;
begin
  if p_tenant_id is null or p_units is null or p_units <= 0 then
    raise exception 'charge_usage: a tenant and a positive number of units are required' using errcode = '22023';
  end if;
  select p.period_start, p.reset_at into v_period, v_reset from private.usage_period(p_at) p;
  select coalesce(tp.plan, 'free') into v_plan
  from (select 1) one left join public.tenant_plans tp on tp.tenant_id = p_tenant_id;
  select up.monthly_units into v_quota from public.usage_plans up where up.name = v_plan;
  if v_quota is null then
    raise exception 'charge_usage: plan % does not exist', v_plan using errcode = '23503';
  end if;

  insert into public.usage_counters as c (tenant_id, period_start, used)
  select p_tenant_id, v_period, p_units
  where p_units <= v_quota
  on conflict on constraint usage_counters_pkey do update
    set used = c.used + excluded.used
    where c.used + excluded.used <= v_quota
  returning c.used into v_used;

  if v_used is not null then
    return query select true, v_plan, v_quota, v_used, v_quota - v_used, v_period, v_reset;
    return;
  end if;
  select c.used into v_used from public.usage_counters c
  where c.tenant_id = p_tenant_id and c.period_start = v_period;
  v_used := coalesce(v_used, 0);
  return query select false, v_plan, v_quota, v_used, greatest(v_quota - v_used, 0), v_period, v_reset;
end;
$$;
comment on function private.charge_usage(uuid, bigint, timestamptz) is
  'recipe ai-sales-assistant: charges p_units to the tenant''s current month if the plan''s quota allows it (all or nothing); returns the state after';

-- What the caller's tenant has left, read as the caller under RLS (security
-- invoker): a non-member gets no row.
create or replace function private.usage_status(p_tenant_id uuid, p_at timestamptz default now())
returns table (plan text, quota bigint, used bigint, remaining bigint, period_start timestamptz, reset_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select coalesce(tp.plan, 'free'), up.monthly_units, coalesce(c.used, 0),
         greatest(up.monthly_units - coalesce(c.used, 0), 0), p.period_start, p.reset_at
  from private.usage_period(p_at) p
  join public.tenants t on t.id = p_tenant_id
  left join public.tenant_plans tp on tp.tenant_id = t.id
  join public.usage_plans up on up.name = coalesce(tp.plan, 'free')
  left join public.usage_counters c on c.tenant_id = t.id and c.period_start = p.period_start
  where t.id in (select private.member_tenant_ids());
$$;
comment on function private.usage_status(uuid, timestamptz) is
  'recipe ai-sales-assistant: plan, quota, used and remaining units of a tenant this month, for its members (RLS applies)';

revoke all on function private.usage_period(timestamptz), private.charge_usage(uuid, bigint, timestamptz),
  private.usage_status(uuid, timestamptz) from public, anon, authenticated;
grant execute on function private.usage_period(timestamptz), private.usage_status(uuid, timestamptz)
  to authenticated, service_role;
grant execute on function private.charge_usage(uuid, bigint, timestamptz) to service_role;
