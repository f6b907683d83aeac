-- Recipe "creator SaaS backend" (examples/creator-saas/README.md): creators
-- sign in with Supabase Auth, get a creator row on their first authenticated
-- call, write posts (through their token or one of their API keys, under RLS),
-- and pay through Stripe: verified subscription events are logged once per
-- event id and set the creator's plan. On top of edgeguard's migrations
-- (supabase/migrations); conventions as ours (docs/database.md).

-- Creators --------------------------------------------------------------------

create table public.creators (
  -- one per user, created by the user's first call (`creator-saas`), as the user under RLS
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (char_length(display_name) between 1 and 100),
  -- written by the Stripe webhook only (no client grant on these columns)
  plan text not null default 'free' check (plan in ('free', 'pro')),
  subscription_status text not null default 'none'
    check (subscription_status in ('none', 'incomplete', 'incomplete_expired', 'trialing', 'active',
                                   'past_due', 'canceled', 'unpaid', 'paused')),
  stripe_customer_id text unique check (stripe_customer_id ~ '^cus_[A-Za-z0-9]{1,255}$'),
  stripe_subscription_id text check (stripe_subscription_id ~ '^sub_[A-Za-z0-9]{1,255}$'),
  -- the `created` time of the Stripe event that set the state: an older event
  -- arriving late (Stripe does not order deliveries) does not overwrite it
  billing_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.creators is
  'recipe creator-saas: one row per creator, created on first call; plan and subscription set by Stripe events; audited';

create trigger set_updated_at before update on public.creators
  for each row execute function private.set_updated_at();
select private.enable_audit('public.creators', '');

alter table public.creators enable row level security;
revoke all on table public.creators from anon, authenticated;
grant select on table public.creators to authenticated;
grant insert (id, display_name) on table public.creators to authenticated;
grant update (display_name) on table public.creators to authenticated;
-- (the policy column `id` is the primary key: indexed)
create policy creators_select_own on public.creators for select to authenticated
  using (id = (select auth.uid()));
create policy creators_insert_own on public.creators for insert to authenticated
  with check (id = (select auth.uid()));
create policy creators_update_own on public.creators for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
-- no delete policy: a creator goes with their account (foreign key cascade)

-- Posts -------------------------------------------------------------------------

create table public.posts (
  id uuid primary key default gen_random_uuid(),
  creator_id uuid not null references public.creators (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 200),
  body text not null default '' check (char_length(body) <= 10000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.posts is 'recipe creator-saas: a creator''s posts; only their creator reads and writes them; audited';
create index posts_creator_id_idx on public.posts (creator_id, created_at desc);

create trigger set_updated_at before update on public.posts
  for each row execute function private.set_updated_at();
select private.enable_audit('public.posts', '');

alter table public.posts enable row level security;
revoke all on table public.posts from anon, authenticated;
grant select, delete on table public.posts to authenticated;
grant insert (creator_id, title, body) on table public.posts to authenticated;
grant update (title, body) on table public.posts to authenticated;
create policy posts_select_own on public.posts for select to authenticated
  using (creator_id = (select auth.uid()));
create policy posts_insert_own on public.posts for insert to authenticated
  with check (creator_id = (select auth.uid()));
create policy posts_update_own on public.posts for update to authenticated
  using (creator_id = (select auth.uid()))
  with check (creator_id = (select auth.uid()));
create policy posts_delete_own on public.posts for delete to authenticated
  using (creator_id = (select auth.uid()));

-- The billing event log -------------------------------------------------------------

-- One row per Stripe event id, written by the `creator-billing` function after
-- the core verified the signature. The primary key makes a redelivery (Stripe
-- retries, a replay within the tolerance) a no-op.
create table public.creator_billing_events (
  event_id text primary key check (event_id ~ '^evt_[A-Za-z0-9]{1,255}$'),
  event_type text not null check (char_length(event_type) between 1 and 100),
  -- null when the event names no creator we know
  creator_id uuid references public.creators (id) on delete set null,
  -- the event's own `created` (signed with the body)
  stripe_created timestamptz not null,
  -- whether the event changed the creator's subscription state
  applied boolean not null,
  received_at timestamptz not null default now(),
  request_id text
);
comment on table public.creator_billing_events is
  'recipe creator-saas: verified Stripe events, once per event id; creators read their own';
create index creator_billing_events_creator_id_idx on public.creator_billing_events (creator_id, received_at desc);

alter table public.creator_billing_events enable row level security;
revoke all on table public.creator_billing_events from anon, authenticated;
grant select on table public.creator_billing_events to authenticated;
create policy creator_billing_events_select_own on public.creator_billing_events for select to authenticated
  using (creator_id = (select auth.uid()));

-- The plan a Stripe subscription status buys.
create or replace function private.creator_plan_for(p_status text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_status in ('active', 'trialing', 'past_due') then 'pro' else 'free' end;
$$;
comment on function private.creator_plan_for(text) is
  'recipe creator-saas: the plan of a Stripe subscription status (past_due keeps pro while Stripe retries the payment)';

-- Logs a verified Stripe event once and applies a subscription event to its
-- creator (named by the subscription's `metadata.creator_id`, set when the
-- checkout session was created). Returns whether the event was seen before and
-- whether it changed a creator. Service only: the caller has verified the
-- signature; nothing here trusts more than the signed body.
create or replace function private.record_stripe_event(
  p_event_id text,
  p_event_type text,
  p_created timestamptz,
  p_object jsonb,
  p_request_id text default null
)
returns table (duplicate boolean, applied boolean, creator_id uuid)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_creator uuid;
  v_status text;
  v_applied boolean := false;
begin
  select c.id into v_creator from public.creators c
   where c.id::text = coalesce(p_object -> 'metadata' ->> 'creator_id', '');
  v_status := case when p_event_type = 'customer.subscription.deleted' then 'canceled'
                   else p_object ->> 'status' end;

  insert into public.creator_billing_events (event_id, event_type, creator_id, stripe_created, applied, request_id)
  values (p_event_id, p_event_type, v_creator, p_created, false, p_request_id)
  on conflict (event_id) do nothing;
  if not found then
    return query select true, false, v_creator;
    return;
  end if;

  if v_creator is not null
     and p_event_type in ('customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted') then
    update public.creators c
       set subscription_status = v_status,
           plan = private.creator_plan_for(v_status),
           stripe_customer_id = coalesce(p_object ->> 'customer', c.stripe_customer_id),
           stripe_subscription_id = coalesce(p_object ->> 'id', c.stripe_subscription_id),
           billing_event_at = p_created
     where c.id = v_creator
       and (c.billing_event_at is null or c.billing_event_at <= p_created);
    v_applied := found;
    if v_applied then
      update public.creator_billing_events e set applied = true where e.event_id = p_event_id;
    end if;
  end if;
  return query select false, v_applied, v_creator;
end;
$$;
comment on function private.record_stripe_event(text, text, timestamptz, jsonb, text) is
  'recipe creator-saas: logs a verified Stripe event once (by event id) and applies subscription events to the creator (service only)';
revoke all on function private.record_stripe_event(text, text, timestamptz, jsonb, text) from public, anon, authenticated;
grant execute on function private.record_stripe_event(text, text, timestamptz, jsonb, text) to service_role;
revoke all on function private.creator_plan_for(text) from public, anon;
grant execute on function private.creator_plan_for(text) to authenticated, service_role;
