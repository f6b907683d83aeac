-- edgeguard: signed checkpoints of the audit hash chains (docs/security.md,
-- "Audit log integrity").
--
-- A hash chain alone does not stop the database owner: whoever owns
-- audit_logs can change a row, recompute every later hash and the head, and
-- verify_audit_chain passes. A checkpoint is an Ed25519 signature over a
-- chain's head (chain_id, seq, hash, signed_at), made by the functions with
-- AUDIT_SIGNING_KEY, a function secret that never enters the database. It is
-- stored here and printed to the function logs; `edgeguard audit verify`
-- checks the signatures with the public key alone.
--
-- This migration adds:
--   private.audit_checkpoints            append-only, one row per signed head
--   an AFTER INSERT statement trigger    notes which chains a transaction wrote
--                                        (setting edgeguard.audit_chains_written)
--   private.audit_written_heads()        the heads of those chains (db.ts signs them)
--   private.audit_row_canonical(r)       the exact text audit_row_hash hashes
--   private.audit_export(uuid[])         rows (canonical text) + checkpoints, for the CLI
--   public.verify_audit_chain            now also compares every checkpoint
--                                        with the row at its seq

-- Canonical content ----------------------------------------------------------

-- The text whose SHA-256 is an audit row's hash. audit_row_hash is defined
-- from it, so an export carries exactly what was hashed and a verifier outside
-- the database recomputes the hash without reimplementing jsonb's text form.
create or replace function private.audit_row_canonical(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_array(
    r.chain_id, r.seq, r.prev_hash,
    (extract(epoch from r.occurred_at) * 1000000)::bigint,
    r.tenant_id, r.table_schema, r.table_name, r.operation, r.row_pk,
    r.old_record, r.new_record,
    r.actor_id, r.actor_role, r.actor_claims, r.db_role,
    r.request_id, host(r.client_ip), r.user_agent
  )::text;
$$;
comment on function private.audit_row_canonical(public.audit_logs) is
  'edgeguard: the canonical text of an audit row (JSON array: chain_id, seq, prev_hash, time in µs, content); its sha256 is the row hash';

-- Same value as before (the expression moved into audit_row_canonical).
create or replace function private.audit_row_hash(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select encode(sha256(convert_to(private.audit_row_canonical(r), 'UTF8')), 'hex');
$$;

-- Checkpoints ----------------------------------------------------------------

create table private.audit_checkpoints (
  id bigint generated always as identity primary key,
  chain_id uuid not null,
  seq bigint not null check (seq >= 1),
  head_hash text not null check (head_hash ~ '^[0-9a-f]{64}$'),
  -- the signer's clock, Unix milliseconds, exactly as signed
  signed_at_ms bigint not null check (signed_at_ms >= 0),
  -- first 16 hex digits of sha256(public key): names the key, proves nothing
  key_id text not null check (key_id ~ '^[0-9a-f]{16}$'),
  -- Ed25519 over the message of edgeguard_core::audit_checkpoint, base64url
  signature text not null check (signature ~ '^[A-Za-z0-9_-]{86}$'),
  recorded_at timestamptz not null default clock_timestamp(),
  unique (chain_id, seq)
);
comment on table private.audit_checkpoints is
  'edgeguard: append-only Ed25519-signed heads of the audit chains (the key never enters the database)';

-- A checkpoint must name a row that exists with that hash: a buggy or hostile
-- writer cannot store a checkpoint of a head that never was.
create or replace function private.audit_checkpoints_before_insert()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from public.audit_logs a
                 where a.chain_id = new.chain_id and a.seq = new.seq and a.hash = new.head_hash) then
    raise exception 'audit checkpoint does not match the chain' using errcode = '23514';
  end if;
  new.recorded_at := clock_timestamp();
  return new;
end;
$$;

create or replace function private.audit_checkpoints_immutable()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_checkpoints is append-only: % refused', tg_op using errcode = '42501';
end;
$$;

create trigger audit_checkpoints_match before insert on private.audit_checkpoints
  for each row execute function private.audit_checkpoints_before_insert();
create trigger audit_checkpoints_no_update before update or delete on private.audit_checkpoints
  for each row execute function private.audit_checkpoints_immutable();
create trigger audit_checkpoints_no_truncate before truncate on private.audit_checkpoints
  for each statement execute function private.audit_checkpoints_immutable();

alter table private.audit_checkpoints enable row level security;
revoke all on table private.audit_checkpoints from public, anon, authenticated, service_role;
-- the functions append (as service_role, see db.ts); UPDATE, DELETE and TRUNCATE are granted to nobody
grant select, insert on table private.audit_checkpoints to service_role;

-- Which chains a transaction wrote ------------------------------------------

-- Adds the chain ids of the inserted audit rows to the transaction-local
-- setting edgeguard.audit_chains_written (comma-separated). It only selects
-- which heads db.ts signs; the heads themselves come from audit_chain_heads.
create or replace function private.audit_note_written_chains()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_known text := coalesce(current_setting('edgeguard.audit_chains_written', true), '');
  v_new text;
begin
  select string_agg(distinct n.chain_id::text, ',') into v_new
  from written n
  where position(n.chain_id::text in v_known) = 0;
  if v_new is not null then
    perform set_config('edgeguard.audit_chains_written',
                       case when v_known = '' then v_new else v_known || ',' || v_new end, true);
  end if;
  return null;
end;
$$;

create trigger audit_logs_note_written after insert on public.audit_logs
  referencing new table as written
  for each statement execute function private.audit_note_written_chains();

-- The heads of the chains this transaction wrote (the service signs them
-- before commit, while the chain's advisory lock is still held).
create or replace function private.audit_written_heads()
returns table (chain_id uuid, seq bigint, hash text)
language sql
stable
set search_path = ''
as $$
  select h.chain_id, h.seq, h.hash
  from private.audit_chain_heads h
  where h.chain_id = any (string_to_array(
    nullif(current_setting('edgeguard.audit_chains_written', true), ''), ',')::uuid[])
  order by h.chain_id;
$$;

-- Export for verifiers outside the database ----------------------------------

-- Every row (canonical text and hash) and every checkpoint of the given
-- chains (null = all chains), as read by `edgeguard audit verify`.
create or replace function private.audit_export(p_chain_ids uuid[] default null)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'format', 'edgeguard-audit-export/v1',
    'chains', coalesce(jsonb_agg(jsonb_build_object(
      'chain_id', c.chain_id,
      'rows', (select coalesce(jsonb_agg(jsonb_build_object(
                 'id', a.id, 'seq', a.seq, 'prev_hash', a.prev_hash, 'hash', a.hash,
                 'canonical', private.audit_row_canonical(a)) order by a.seq), '[]'::jsonb)
               from public.audit_logs a where a.chain_id = c.chain_id),
      'checkpoints', (select coalesce(jsonb_agg(jsonb_build_object(
                 'seq', k.seq, 'hash', k.head_hash, 'signed_at_ms', k.signed_at_ms,
                 'key_id', k.key_id, 'signature', k.signature) order by k.seq), '[]'::jsonb)
               from private.audit_checkpoints k where k.chain_id = c.chain_id)
    ) order by c.chain_id), '[]'::jsonb))
  from (select distinct x.chain_id from (
          select a.chain_id from public.audit_logs a
          union select k.chain_id from private.audit_checkpoints k) x
        where p_chain_ids is null or x.chain_id = any (p_chain_ids)) c;
$$;

-- The checkpoints of a tenant's chain, for that tenant's admins (privileged
-- callers read private.audit_checkpoints directly).
create or replace function private.audit_chain_checkpoints(p_chain_id uuid)
returns table (seq bigint, head_hash text)
language sql
stable
security definer
set search_path = ''
as $$
  select k.seq, k.head_hash from private.audit_checkpoints k
  where k.chain_id = p_chain_id and private.has_tenant_role(p_chain_id, 'admin');
$$;

-- Verification ---------------------------------------------------------------

-- As before (first broken link, then the head), plus: every checkpoint's
-- (seq, hash) must equal the row at that seq (reason checkpoint_mismatch).
-- This catches a rewrite after a checkpoint by someone who did not also
-- rewrite the checkpoints; one who did is caught by the signatures, which
-- only `edgeguard audit verify` (holding the public key) can check.
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
  v_cp record;
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

  -- the links hold, so comparing the stored hash at each checkpoint's seq suffices
  if v_privileged then
    select k.seq, a.id into v_cp
    from private.audit_checkpoints k
    left join public.audit_logs a on a.chain_id = v_chain and a.seq = k.seq
    where k.chain_id = v_chain and a.hash is distinct from k.head_hash
    order by k.seq limit 1;
  else
    select k.seq, a.id into v_cp
    from private.audit_chain_checkpoints(v_chain) k
    left join public.audit_logs a on a.chain_id = v_chain and a.seq = k.seq
    where a.hash is distinct from k.head_hash
    order by k.seq limit 1;
  end if;
  if v_cp.seq is not null then
    return query select false, v_count, v_cp.id, v_cp.seq, 'checkpoint_mismatch'::text;
    return;
  end if;

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
  'edgeguard: verifies a tenant''s audit hash chain (null = global chain) and that it still matches its checkpoints; returns the first broken link';

-- Privileges -------------------------------------------------------------------

revoke all on function private.audit_row_canonical(public.audit_logs),
  private.audit_checkpoints_before_insert(), private.audit_checkpoints_immutable(),
  private.audit_note_written_chains(), private.audit_written_heads(),
  private.audit_export(uuid[]), private.audit_chain_checkpoints(uuid)
  from public, anon, authenticated, service_role;
grant execute on function private.audit_row_canonical(public.audit_logs) to authenticated, service_role;
grant execute on function private.audit_chain_checkpoints(uuid) to authenticated, service_role;
grant execute on function private.audit_written_heads(), private.audit_export(uuid[]) to service_role;
