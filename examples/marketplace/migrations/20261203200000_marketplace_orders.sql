-- Recipe "marketplace back office" (examples/marketplace/README.md): orders
-- seen by customers (their own), agents (those assigned to them) and admins
-- (all of their tenant), every write in the audit log. On top of edgeguard's
-- tenants and audit chain (supabase/migrations); conventions as ours
-- (docs/database.md).

-- The role ladder gains `agent`, between moderator (40) and provider (30):
-- tenant_members.role and the access-token hook's user_role may then be
-- `agent`; the function's policy.json ladder is admin > agent > customer.
insert into public.roles (name, rank, description)
values ('agent', 35, 'handles the orders assigned to them')
on conflict (name) do nothing;

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  customer_id uuid not null references auth.users (id) on delete cascade,
  assigned_agent_id uuid references auth.users (id) on delete set null,
  status text not null default 'pending'
    check (status in ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
  total_cents bigint not null check (total_cents between 0 and 100000000000),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  note text not null default '' check (char_length(note) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.orders is
  'recipe marketplace: orders; customers see their own, agents their assigned ones, admins their tenant''s; audited';
-- one index per policy column
create index orders_tenant_id_idx on public.orders (tenant_id, created_at desc);
create index orders_customer_id_idx on public.orders (customer_id, created_at desc);
create index orders_assigned_agent_id_idx on public.orders (assigned_agent_id, created_at desc);

create trigger set_updated_at before update on public.orders
  for each row execute function private.set_updated_at();

-- Every insert, update and delete, with the acting user (request.jwt.claims)
-- and the request context (docs/security.md: the hash-chained audit log).
select private.enable_audit('public.orders');

alter table public.orders enable row level security;
revoke all on table public.orders from anon, authenticated;
grant select on table public.orders to authenticated;
grant insert (tenant_id, customer_id, total_cents, currency, note) on table public.orders to authenticated;
grant update (status, note, assigned_agent_id) on table public.orders to authenticated;

-- Reading: the three groups (permissive policies: any one admits a row).
create policy orders_select_customer on public.orders for select to authenticated
  using (customer_id = (select auth.uid()) and tenant_id in (select private.member_tenant_ids()));
create policy orders_select_agent on public.orders for select to authenticated
  using (assigned_agent_id = (select auth.uid()) and tenant_id in (select private.tenant_ids_with_role('agent')));
create policy orders_select_admin on public.orders for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')));

-- Customers place their own orders, unassigned, pending (the column grants
-- leave status and assignee to their defaults).
create policy orders_insert_customer on public.orders for insert to authenticated
  with check (customer_id = (select auth.uid()) and tenant_id in (select private.member_tenant_ids()));

-- Agents move their assigned orders along (status, note) and cannot hand
-- them to someone else; admins update any order of their tenant, assignment
-- included. Nobody deletes (cancel instead): no delete policy or grant.
create policy orders_update_agent on public.orders for update to authenticated
  using (assigned_agent_id = (select auth.uid()) and tenant_id in (select private.tenant_ids_with_role('agent')))
  with check (assigned_agent_id = (select auth.uid()) and tenant_id in (select private.tenant_ids_with_role('agent')));
create policy orders_update_admin on public.orders for update to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')))
  with check (tenant_id in (select private.tenant_ids_with_role('admin')));
