-- edgeguard: append-only, hash-chained audit log and the generic audit trigger.
--
-- Every audit row is chained per tenant (rows without a tenant form the
-- "global" chain, chain_id = the nil uuid): seq counts 1, 2, 3, … and
-- hash = sha256(canonical content || prev_hash). Writers of one chain are
-- serialised by a transaction-scoped advisory lock, so concurrent writers
-- cannot fork a chain; unique (chain_id, seq) makes any fork an error rather
-- than silent. The chain head (last seq and hash) is also kept in
-- private.audit_chain_heads so that deleting the newest rows is detected.
--
-- Actor: taken from the request context, never from the inserted values:
--   request.jwt.claims      the caller's verified JWT claims (PostgREST and
--                           edgeguard's db.ts set it; also with a privileged
--                           connection acting for a user)
--   edgeguard.request_id    the request id      (fallback: request.headers x-request-id)
--   edgeguard.client_ip     the client address  (fallback: first x-forwarded-for)
--   edgeguard.user_agent    the user agent      (fallback: request.headers user-agent)
--   role / session_user     the database role that wrote (db_role)

create table public.audit_logs (
  id bigint generated always as identity primary key,
  chain_id uuid not null,
  seq bigint not null check (seq >= 1),
  occurred_at timestamptz not null default clock_timestamp(),
  -- no foreign keys: the log outlives the tenants, users and rows it describes
  tenant_id uuid,
  table_schema text not null,
  table_name text not null,
  operation text not null check (operation in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'EVENT')),
  row_pk jsonb,
  old_record jsonb,
  new_record jsonb,
  actor_id uuid,
  actor_role text,
  actor_claims jsonb,
  db_role text not null,
  request_id text,
  client_ip inet,
  user_agent text,
  prev_hash text check (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  unique (chain_id, seq)
);
comment on table public.audit_logs is
  'edgeguard: append-only, per-tenant hash-chained audit log; written by private.audit_trigger and the service';
create index audit_logs_tenant_id_idx on public.audit_logs (tenant_id, occurred_at desc);
create index audit_logs_actor_id_idx on public.audit_logs (actor_id, occurred_at desc);
create index audit_logs_table_idx on public.audit_logs (table_schema, table_name, occurred_at desc);

create table private.audit_chain_heads (
  chain_id uuid primary key,
  seq bigint not null,
  hash text not null
);
comment on table private.audit_chain_heads is 'edgeguard: last seq and hash of every audit chain';
alter table private.audit_chain_heads enable row level security;
revoke all on table private.audit_chain_heads from public, anon, authenticated, service_role;
grant select on table private.audit_chain_heads to service_role;

-- Canonical content and hash ------------------------------------------------

-- The hash of an audit row: sha256 over a JSON array of its content (jsonb
-- text is canonical: sorted keys, normalised numbers; the time enters as
-- integer microseconds, independent of the session's TimeZone).
create or replace function private.audit_row_hash(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select encode(sha256(convert_to(jsonb_build_array(
    r.chain_id, r.seq, r.prev_hash,
    (extract(epoch from r.occurred_at) * 1000000)::bigint,
    r.tenant_id, r.table_schema, r.table_name, r.operation, r.row_pk,
    r.old_record, r.new_record,
    r.actor_id, r.actor_role, r.actor_claims, r.db_role,
    r.request_id, host(r.client_ip), r.user_agent
  )::text, 'UTF8')), 'hex');
$$;
comment on function private.audit_row_hash(public.audit_logs) is
  'edgeguard: sha256 (hex) over the canonical content of an audit row, its chain position and prev_hash';

-- The request context ------------------------------------------------------

create or replace function private.try_inet(p_text text)
returns inet
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_text is null or p_text = '' or char_length(p_text) > 64 then
    return null;
  end if;
  return btrim(p_text)::inet;
exception when others then
  return null;
end;
$$;

create or replace function private.request_claims()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_raw text := nullif(current_setting('request.jwt.claims', true), '');
begin
  if v_raw is null then
    return null;
  end if;
  return v_raw::jsonb;
exception when others then
  return jsonb_build_object('invalid_claims', true);
end;
$$;

create or replace function private.request_headers()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_raw text := nullif(current_setting('request.headers', true), '');
begin
  if v_raw is null then
    return '{}'::jsonb;
  end if;
  return v_raw::jsonb;
exception when others then
  return '{}'::jsonb;
end;
$$;

-- Chain, actor and immutability triggers on audit_logs -----------------------

create or replace function private.audit_logs_before_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_claims jsonb := private.request_claims();
  v_headers jsonb := private.request_headers();
  v_head private.audit_chain_heads;
begin
  -- actor and request context: always from the session, never from the caller
  new.actor_claims := case when jsonb_typeof(v_claims) = 'object' then v_claims - 'user_metadata' end;
  new.actor_id := private.try_uuid(v_claims ->> 'sub');
  new.actor_role := left(v_claims ->> 'role', 64);
  new.db_role := coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
  new.request_id := left(coalesce(nullif(current_setting('edgeguard.request_id', true), ''),
                                  v_headers ->> 'x-request-id'), 200);
  new.client_ip := private.try_inet(coalesce(nullif(current_setting('edgeguard.client_ip', true), ''),
                                             split_part(v_headers ->> 'x-forwarded-for', ',', 1)));
  new.user_agent := left(coalesce(nullif(current_setting('edgeguard.user_agent', true), ''),
                                  v_headers ->> 'user-agent'), 512);
  new.occurred_at := clock_timestamp();

  -- chain position: serialised per chain until this transaction ends
  new.chain_id := coalesce(new.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid);
  perform pg_advisory_xact_lock(hashtextextended('edgeguard.audit_chain:' || new.chain_id::text, 0));
  select * into v_head from private.audit_chain_heads h where h.chain_id = new.chain_id;
  new.seq := coalesce(v_head.seq, 0) + 1;
  new.prev_hash := v_head.hash;
  new.hash := private.audit_row_hash(new);

  insert into private.audit_chain_heads as h (chain_id, seq, hash)
  values (new.chain_id, new.seq, new.hash)
  on conflict (chain_id) do update set seq = excluded.seq, hash = excluded.hash;
  return new;
end;
$$;

create or replace function private.audit_logs_immutable()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_logs is append-only: % refused', tg_op using errcode = '42501';
end;
$$;

create trigger audit_logs_chain before insert on public.audit_logs
  for each row execute function private.audit_logs_before_insert();
create trigger audit_logs_no_update before update or delete on public.audit_logs
  for each row execute function private.audit_logs_immutable();
create trigger audit_logs_no_truncate before truncate on public.audit_logs
  for each statement execute function private.audit_logs_immutable();

-- The generic row trigger (in the spirit of supa_audit's enable_tracking) --
--   tg_argv[0]  the column holding the row's tenant ('' = none)
--   tg_argv[1]  comma-separated columns whose values are redacted
--   tg_argv[2]  comma-separated columns whose changes alone are not logged

create or replace function private.audit_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tenant_col text := coalesce(tg_argv[0], '');
  v_redact text[] := string_to_array(nullif(coalesce(tg_argv[1], ''), ''), ',');
  v_ignore text[] := string_to_array(nullif(coalesce(tg_argv[2], ''), ''), ',');
  v_old jsonb;
  v_new jsonb;
  v_row jsonb;
  v_pk jsonb;
  v_col text;
begin
  if tg_level = 'STATEMENT' then
    insert into public.audit_logs (tenant_id, table_schema, table_name, operation, db_role, hash)
    values (null, tg_table_schema, tg_table_name, tg_op, '', repeat('0', 64));
    return null;
  end if;

  if tg_op in ('UPDATE', 'DELETE') then v_old := to_jsonb(old); end if;
  if tg_op in ('INSERT', 'UPDATE') then v_new := to_jsonb(new); end if;

  if tg_op = 'UPDATE' then
    if (v_old - coalesce(v_ignore, '{}'::text[])) = (v_new - coalesce(v_ignore, '{}'::text[])) then
      return null;  -- nothing but ignored columns changed
    end if;
  end if;

  v_row := coalesce(v_new, v_old);
  select jsonb_object_agg(a.attname, v_row -> a.attname::text)
    into v_pk
  from pg_catalog.pg_index i
  join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
  where i.indrelid = tg_relid and i.indisprimary;

  foreach v_col in array coalesce(v_redact, '{}'::text[]) loop
    if v_old ? v_col and v_old -> v_col <> 'null'::jsonb then
      v_old := jsonb_set(v_old, array[v_col], '"[redacted]"');
    end if;
    if v_new ? v_col and v_new -> v_col <> 'null'::jsonb then
      v_new := jsonb_set(v_new, array[v_col], '"[redacted]"');
    end if;
  end loop;

  insert into public.audit_logs (tenant_id, table_schema, table_name, operation, row_pk,
                                 old_record, new_record, db_role, hash)
  values (case when v_tenant_col <> '' then private.try_uuid(v_row ->> v_tenant_col) end,
          tg_table_schema, tg_table_name, tg_op, v_pk, v_old, v_new, '', repeat('0', 64));
  return null;
end;
$$;
comment on function private.audit_trigger() is
  'edgeguard: generic AFTER row/statement audit trigger; enable per table with private.enable_audit';

create or replace function private.enable_audit(
  p_table regclass,
  p_tenant_column text default 'tenant_id',
  p_redact text[] default '{}',
  p_ignore text[] default '{}'
)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_args text := format('%L, %L, %L', coalesce(p_tenant_column, ''),
                        array_to_string(p_redact, ','), array_to_string(p_ignore, ','));
begin
  execute format('drop trigger if exists audit_row on %s', p_table);
  execute format('drop trigger if exists audit_truncate on %s', p_table);
  execute format('create trigger audit_row after insert or update or delete on %s '
                 'for each row execute function private.audit_trigger(%s)', p_table, v_args);
  execute format('create trigger audit_truncate after truncate on %s '
                 'for each statement execute function private.audit_trigger(%s)', p_table, v_args);
end;
$$;
comment on function private.enable_audit(regclass, text, text[], text[]) is
  'edgeguard: start auditing a table (tenant column, redacted columns, columns whose changes alone are not logged)';

create or replace function private.disable_audit(p_table regclass)
returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('drop trigger if exists audit_row on %s', p_table);
  execute format('drop trigger if exists audit_truncate on %s', p_table);
end;
$$;
comment on function private.disable_audit(regclass) is 'edgeguard: stop auditing a table';

-- Application events (e.g. "member role changed by the admin-users function")
-- written by the service; the actor still comes from the request context.
create or replace function private.audit_event(p_tenant_id uuid, p_event text, p_details jsonb default '{}')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_event is null or p_event !~ '^[a-z][a-z0-9_.:-]{0,63}$' then
    raise exception 'audit_event: event must match ^[a-z][a-z0-9_.:-]{0,63}$' using errcode = '22023';
  end if;
  insert into public.audit_logs (tenant_id, table_schema, table_name, operation, new_record, db_role, hash)
  values (p_tenant_id, 'event', p_event, 'EVENT', coalesce(p_details, '{}'::jsonb), '', repeat('0', 64))
  returning id into v_id;
  return v_id;
end;
$$;
comment on function private.audit_event(uuid, text, jsonb) is
  'edgeguard: append an application event to the tenant''s audit chain (service only)';

-- Verification --------------------------------------------------------------

-- The head of a tenant's chain, for that tenant's admins (privileged callers
-- read private.audit_chain_heads directly).
create or replace function private.audit_chain_head(p_chain_id uuid)
returns table (seq bigint, hash text)
language sql
stable
security definer
set search_path = ''
as $$
  select h.seq, h.hash from private.audit_chain_heads h
  where h.chain_id = p_chain_id and private.has_tenant_role(p_chain_id, 'admin');
$$;

-- Walks a tenant's chain (null = the global chain) and returns the first broken
-- link: a row whose hash does not match its content, whose prev_hash is not
-- the previous row's hash, a gap in seq (deleted rows) or a chain shorter than
-- its recorded head (deleted newest rows). Runs with the caller's rights:
-- tenant admins verify their tenant; the service and superusers any chain.
create or replace function public.verify_audit_chain(p_tenant_id uuid)
returns table (valid boolean, rows_checked bigint, first_broken_id bigint, first_broken_seq bigint, reason text)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_chain uuid := coalesce(p_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid);
  v_privileged boolean;
  v_prev_hash text;
  v_expect bigint := 1;
  v_count bigint := 0;
  v_head record;
  r public.audit_logs;
begin
  select rolbypassrls or rolsuper into v_privileged from pg_catalog.pg_roles where rolname = current_user;
  if not coalesce(v_privileged, false)
     and (p_tenant_id is null or not private.has_tenant_role(p_tenant_id, 'admin')) then
    raise exception 'verify_audit_chain: not allowed' using errcode = '42501';
  end if;

  for r in select * from public.audit_logs a where a.chain_id = v_chain order by a.seq loop
    v_count := v_count + 1;
    if r.seq <> v_expect then
      return query select false, v_count, r.id, r.seq, 'sequence_gap'::text;
      return;
    end if;
    if r.prev_hash is distinct from v_prev_hash then
      return query select false, v_count, r.id, r.seq, 'prev_hash_mismatch'::text;
      return;
    end if;
    if r.hash <> private.audit_row_hash(r) then
      return query select false, v_count, r.id, r.seq, 'hash_mismatch'::text;
      return;
    end if;
    v_prev_hash := r.hash;
    v_expect := v_expect + 1;
  end loop;

  if v_privileged then
    select h.seq, h.hash into v_head from private.audit_chain_heads h where h.chain_id = v_chain;
  else
    select h.seq, h.hash into v_head from private.audit_chain_head(v_chain) h;
  end if;
  if v_head.seq is not null and (v_head.seq <> v_expect - 1 or v_head.hash is distinct from v_prev_hash) then
    return query select false, v_count, null::bigint, v_expect, 'head_mismatch'::text;
    return;
  end if;
  return query select true, v_count, null::bigint, null::bigint, null::text;
end;
$$;
comment on function public.verify_audit_chain(uuid) is
  'edgeguard: verifies a tenant''s audit hash chain (null = global chain); returns the first broken link';

-- Privileges and policies ---------------------------------------------------

alter table public.audit_logs enable row level security;
revoke all on table public.audit_logs from anon, authenticated, service_role;
grant select on table public.audit_logs to authenticated;
-- the service reads and appends; UPDATE, DELETE and TRUNCATE are granted to nobody
grant select, insert on table public.audit_logs to service_role;

create policy audit_logs_select on public.audit_logs for select to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('admin')));

revoke all on function private.audit_row_hash(public.audit_logs), private.try_inet(text),
  private.request_claims(), private.request_headers(), private.audit_logs_before_insert(),
  private.audit_logs_immutable(), private.audit_trigger(), private.enable_audit(regclass, text, text[], text[]),
  private.disable_audit(regclass), private.audit_event(uuid, text, jsonb), private.audit_chain_head(uuid)
  from public, anon, authenticated, service_role;
grant execute on function private.audit_row_hash(public.audit_logs), private.audit_chain_head(uuid)
  to authenticated, service_role;
grant execute on function private.audit_event(uuid, text, jsonb) to service_role;
revoke all on function public.verify_audit_chain(uuid) from public, anon;
grant execute on function public.verify_audit_chain(uuid) to authenticated, service_role;

-- Audit the tables created so far.
select private.enable_audit('public.tenants', 'id');
select private.enable_audit('public.tenant_members');
select private.enable_audit('public.roles', '');
select private.enable_audit('public.role_permissions', '');
