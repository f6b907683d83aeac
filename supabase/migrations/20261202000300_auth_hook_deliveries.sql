-- edgeguard: Supabase Auth hook deliveries, answered once per `webhook-id`.
--
-- Supabase Auth signs every hook request with a fresh `webhook-id`
-- (docs/platform.md). A delivery seen again with the same id is a replay: it
-- is answered from the first answer and never acted on twice (a replayed
-- password-verification attempt must not add to the lock-out count). Rows
-- are needed only while a replay could still pass the signature's timestamp
-- tolerance; the auth-hooks function deletes rows older than an hour.
-- Only the service reads or writes them.

create table private.auth_hook_deliveries (
  webhook_id text primary key check (length(webhook_id) between 1 and 255),
  hook text not null check (hook in ('custom-access-token', 'password-verification')),
  status smallint,
  answer jsonb,
  created_at timestamptz not null default now()
);
comment on table private.auth_hook_deliveries is
  'edgeguard: the first answer to each Supabase Auth hook delivery (by webhook-id), so replays are answered once; kept one hour';
create index auth_hook_deliveries_created_at_idx on private.auth_hook_deliveries (created_at);

alter table private.auth_hook_deliveries enable row level security;
revoke all on table private.auth_hook_deliveries from public, anon, authenticated;
-- service_role bypasses RLS; no policy lets any other role in
grant select, insert, update, delete on table private.auth_hook_deliveries to service_role;
