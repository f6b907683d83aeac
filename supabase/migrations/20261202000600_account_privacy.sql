-- edgeguard: account export and erasure, with an audit chain that stays
-- verifiable when personal data is erased (docs/privacy.md).
--
-- Audit rows, format 2 (every row written from this migration on)
-- ------------------------------------------------------------------
-- A format-1 row hashes its full content, personal fields included: removing
-- an e-mail address from it breaks the chain. A format-2 row separates the
-- personal fields (old_record, new_record, actor_claims, client_ip,
-- user_agent) from the rest. Its canonical text carries, instead of those
-- fields, a salted commitment to them:
--
--   personal_sha256 = sha256(personal_salt || jsonb_build_array(old_record,
--                     new_record, actor_claims, host(client_ip), user_agent)::text)
--
-- with personal_salt 32 random bytes of the row (so that the commitment of a
-- low-entropy value such as an IP address cannot be guessed once the salt is
-- gone). While a row is not redacted the commitment is recomputed from the
-- fields every time the row is hashed (audit_row_canonical), so editing a
-- personal field changes the hash exactly as it does for a format-1 row.
-- Redaction (private.audit_redact_rows) nulls the personal fields and the
-- salt and keeps personal_sha256: the canonical text, the hash, every later
-- link and every signed checkpoint stay what they were, and both
-- verify_audit_chain and `edgeguard audit verify` still pass.
--
-- Format-1 rows (written before this migration) cannot be redacted without
-- re-chaining: erasure leaves them as they are and reports how many it kept
-- (docs/privacy.md, "Rows written before format 2").
--
-- The only UPDATE audit_logs admits is a redaction: a format-2 row, not yet
-- redacted, whose personal fields and salt become null while nothing else
-- changes and whose stored commitment matches its fields. No role is granted
-- UPDATE; only the table owner's security-definer functions redact.

alter table public.audit_logs
  add column row_format smallint not null default 1 check (row_format in (1, 2)),
  add column personal_salt bytea check (octet_length(personal_salt) = 32),
  add column personal_sha256 text check (personal_sha256 ~ '^[0-9a-f]{64}$'),
  add column redacted_at timestamptz,
  add constraint audit_logs_format2_committed check (row_format = 1 or personal_sha256 is not null),
  add constraint audit_logs_redacted_empty check (
    redacted_at is null
    or (row_format = 2 and personal_salt is null and old_record is null and new_record is null
        and actor_claims is null and client_ip is null and user_agent is null));
comment on column public.audit_logs.row_format is
  'edgeguard: 1 = hash over the full content; 2 = hash over a salted commitment to the personal fields (redactable)';
comment on column public.audit_logs.personal_sha256 is
  'edgeguard: sha256(personal_salt || personal fields as JSON) of a format-2 row; kept when the row is redacted';

-- The personal fields of a row, as committed to.
create or replace function private.audit_personal_text(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_array(r.old_record, r.new_record, r.actor_claims, host(r.client_ip), r.user_agent)::text;
$$;

-- The commitment of a format-2 row: recomputed from the fields while the salt
-- is there, the stored value once the row is redacted.
create or replace function private.audit_personal_digest(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when r.personal_salt is null then r.personal_sha256
              else encode(sha256(r.personal_salt || convert_to(private.audit_personal_text(r), 'UTF8')), 'hex') end;
$$;

-- Format 1 exactly as before; format 2 with the commitment in place of the
-- personal fields. Both begin with chain_id, seq, prev_hash (the CLI checks it).
create or replace function private.audit_row_canonical(r public.audit_logs)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when r.row_format = 2 then
    jsonb_build_array(
      r.chain_id, r.seq, r.prev_hash,
      (extract(epoch from r.occurred_at) * 1000000)::bigint,
      r.tenant_id, r.table_schema, r.table_name, r.operation, r.row_pk,
      r.actor_id, r.actor_role, r.db_role, r.request_id,
      jsonb_build_object('format', 'edgeguard-audit-row/v2', 'personal_sha256', private.audit_personal_digest(r))
    )::text
  else
    jsonb_build_array(
      r.chain_id, r.seq, r.prev_hash,
      (extract(epoch from r.occurred_at) * 1000000)::bigint,
      r.tenant_id, r.table_schema, r.table_name, r.operation, r.row_pk,
      r.old_record, r.new_record,
      r.actor_id, r.actor_role, r.actor_claims, r.db_role,
      r.request_id, host(r.client_ip), r.user_agent
    )::text
  end;
$$;

-- As in 20261123000200_audit.sql, except two things: the client IP comes only
-- from the function that wrote the row (resolved from the trusted hop, never
-- the client-set leftmost x-forwarded-for), and the format-2 commitment.
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
  -- the client IP the function resolved from the deployment's trusted hop
  -- (EDGEGUARD_CLIENT_IP, the limiter's rule); never a header a client can set
  new.client_ip := private.try_inet(nullif(current_setting('edgeguard.client_ip', true), ''));
  new.user_agent := left(coalesce(nullif(current_setting('edgeguard.user_agent', true), ''),
                                  v_headers ->> 'user-agent'), 512);
  new.occurred_at := clock_timestamp();

  -- format 2: the personal fields enter the hash through a salted commitment
  new.row_format := 2;
  new.redacted_at := null;
  new.personal_salt := extensions.gen_random_bytes(32);
  new.personal_sha256 := null;
  new.personal_sha256 := private.audit_personal_digest(new);

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

-- UPDATE: redaction only (see the header); DELETE stays refused.
create or replace function private.audit_logs_redact_only()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_personal text[] := array['old_record', 'new_record', 'actor_claims', 'client_ip', 'user_agent',
                             'personal_salt', 'redacted_at'];
begin
  if old.row_format = 2 and old.redacted_at is null and new.redacted_at is not null
     and new.personal_salt is null and new.old_record is null and new.new_record is null
     and new.actor_claims is null and new.client_ip is null and new.user_agent is null
     and old.personal_sha256 = private.audit_personal_digest(old)
     and (to_jsonb(new) - v_personal) = (to_jsonb(old) - v_personal) then
    return new;
  end if;
  raise exception 'audit_logs is append-only: % refused (only the redaction of a format-2 row is allowed)', tg_op
    using errcode = '42501';
end;
$$;

drop trigger audit_logs_no_update on public.audit_logs;
create trigger audit_logs_no_update before update on public.audit_logs
  for each row execute function private.audit_logs_redact_only();
create trigger audit_logs_no_delete before delete on public.audit_logs
  for each row execute function private.audit_logs_immutable();

-- Rows about a user -----------------------------------------------------------

-- Whether an audit row is about a user: the user acted, or the user's id (or
-- e-mail address) is a value anywhere in its primary key or records.
create or replace function private.audit_row_mentions(r public.audit_logs, p_user_id uuid, p_email text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select r.actor_id = p_user_id
    or jsonb_path_exists(jsonb_build_array(r.row_pk, r.old_record, r.new_record),
                         '$.** ? (@ == $id || @ == $email)',
                         jsonb_build_object('id', p_user_id::text, 'email', coalesce(lower(p_email), p_user_id::text)));
$$;

-- Redacts the format-2 rows with the given ids that are not redacted yet;
-- returns the ids redacted. The chain's hashes do not change.
create or replace function private.audit_redact_rows(p_ids bigint[])
returns setof bigint
language sql
security definer
set search_path = ''
as $$
  update public.audit_logs a
  set old_record = null, new_record = null, actor_claims = null, client_ip = null, user_agent = null,
      personal_salt = null, redacted_at = clock_timestamp()
  where a.id = any (p_ids) and a.row_format = 2 and a.redacted_at is null
  returning a.id;
$$;

-- Export ----------------------------------------------------------------------

-- Every row about a user across the project's tables, as one JSON document
-- (GET /account/export; docs/privacy.md). API keys without their hash; audit
-- rows where the user acted or is the subject (the actor's claims, IP and
-- user agent only on rows the user wrote: on the others they are someone
-- else's); security events about the user. Null when the user does not exist.
create or replace function private.account_export(p_user_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'format', 'edgeguard-account-export/v1',
    'exported_at', now(),
    'user', jsonb_build_object(
      'id', u.id, 'email', u.email, 'phone', u.phone, 'created_at', u.created_at,
      'email_confirmed_at', u.email_confirmed_at, 'last_sign_in_at', u.last_sign_in_at,
      'is_anonymous', u.is_anonymous, 'app_metadata', u.raw_app_meta_data,
      'user_metadata', u.raw_user_meta_data),
    'profile', (select to_jsonb(p) from public.profiles p where p.id = u.id),
    'memberships', (select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at), '[]'::jsonb)
                    from public.tenant_members m where m.user_id = u.id),
    'invitations', (select coalesce(jsonb_agg(to_jsonb(i) order by i.created_at), '[]'::jsonb)
                    from public.tenant_invitations i
                    where i.invitee_user_id = u.id or i.invited_by = u.id or i.accepted_by = u.id
                       or i.invitee_email = lower(u.email)),
    'api_keys', (select coalesce(jsonb_agg(to_jsonb(k) - 'key_hash' order by k.created_at), '[]'::jsonb)
                 from public.api_keys k where k.user_id = u.id),
    'audit_log', (select coalesce(jsonb_agg(jsonb_build_object(
                    'id', a.id, 'chain_id', a.chain_id, 'seq', a.seq, 'occurred_at', a.occurred_at,
                    'tenant_id', a.tenant_id, 'table', a.table_schema || '.' || a.table_name,
                    'operation', a.operation, 'row_pk', a.row_pk,
                    'old_record', a.old_record, 'new_record', a.new_record,
                    'actor_id', a.actor_id, 'actor_role', a.actor_role, 'request_id', a.request_id,
                    'actor_claims', case when a.actor_id = u.id then a.actor_claims end,
                    'client_ip', case when a.actor_id = u.id then host(a.client_ip) end,
                    'user_agent', case when a.actor_id = u.id then a.user_agent end,
                    'redacted_at', a.redacted_at) order by a.id), '[]'::jsonb)
                  from public.audit_logs a where private.audit_row_mentions(a, u.id, u.email)),
    'security_events', (select coalesce(jsonb_agg(jsonb_build_object(
                          'id', e.id, 'occurred_at', e.occurred_at, 'event_type', e.event_type,
                          'severity', e.severity, 'tenant_id', e.tenant_id, 'ip', host(e.ip),
                          'request_id', e.request_id, 'user_agent', e.user_agent, 'details', e.details)
                          order by e.id), '[]'::jsonb)
                        from public.security_events e where e.actor_id = u.id))
  from auth.users u
  where u.id = p_user_id;
$$;
comment on function private.account_export(uuid) is
  'edgeguard: every row about a user as one JSON document (format edgeguard-account-export/v1); service only';

-- Erasure ---------------------------------------------------------------------

-- Erases a user in the caller's transaction (DELETE /account calls it as the
-- service; an operator may call it from SQL): memberships, API keys (deleted,
-- so revoked), invitations sent, received or accepted, the profile, security
-- events, password failures and auth-hook answers about the user are deleted;
-- then, when p_delete_auth_user (default), the auth.users row (identities,
-- sessions and the rest cascade; on hosted Supabase one may instead call it
-- with false and delete the user through the Auth admin API afterwards);
-- then every format-2 audit row about the user is redacted, the rows the
-- deletions above just wrote included; last, an `account.erased` event is
-- appended to the global chain, listing the redacted row ids, with the
-- actor's claims reduced to sub and role and no IP or user agent.
-- Raises P0002 when the user does not exist. Returns the counts.
create or replace function private.erase_user(p_user_id uuid, p_delete_auth_user boolean default true)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_email text;
  v_claims jsonb := private.request_claims();
  v_counts jsonb := '{}'::jsonb;
  v_n bigint;
  v_redacted bigint[];
  v_kept bigint;
begin
  select lower(u.email) into v_email from auth.users u where u.id = p_user_id for update;
  if not found then
    raise exception 'erase_user: no such user' using errcode = 'P0002';
  end if;

  delete from public.api_keys k where k.user_id = p_user_id;
  get diagnostics v_n = row_count; v_counts := v_counts || jsonb_build_object('api_keys', v_n);
  delete from public.tenant_members m where m.user_id = p_user_id;
  get diagnostics v_n = row_count; v_counts := v_counts || jsonb_build_object('memberships', v_n);
  delete from public.tenant_invitations i
  where i.invitee_user_id = p_user_id or i.invited_by = p_user_id or i.accepted_by = p_user_id
     or (v_email is not null and i.invitee_email = v_email);
  get diagnostics v_n = row_count; v_counts := v_counts || jsonb_build_object('invitations', v_n);
  delete from public.profiles p where p.id = p_user_id;
  get diagnostics v_n = row_count; v_counts := v_counts || jsonb_build_object('profile', v_n);
  delete from public.security_events e where e.actor_id = p_user_id;
  get diagnostics v_n = row_count; v_counts := v_counts || jsonb_build_object('security_events', v_n);
  delete from private.password_failures f where f.user_id = p_user_id;
  delete from private.auth_hook_deliveries d
  where jsonb_path_exists(coalesce(d.answer, 'null'::jsonb), '$.** ? (@ == $id)',
                          jsonb_build_object('id', p_user_id::text));
  if p_delete_auth_user then
    delete from auth.users u where u.id = p_user_id;
  end if;

  select coalesce(array_agg(r.id order by r.id), '{}') into v_redacted
  from private.audit_redact_rows(array(
    select a.id from public.audit_logs a
    where a.row_format = 2 and a.redacted_at is null and private.audit_row_mentions(a, p_user_id, v_email))) r(id);
  select count(*) into v_kept from public.audit_logs a
  where a.row_format = 1 and private.audit_row_mentions(a, p_user_id, v_email);
  v_counts := v_counts || jsonb_build_object('audit_rows_redacted', cardinality(v_redacted),
                                             'audit_rows_kept_format1', v_kept,
                                             'auth_user_deleted', p_delete_auth_user);

  -- the erasure's own record carries no personal field beyond the ids
  perform set_config('request.jwt.claims',
                     coalesce(jsonb_strip_nulls(jsonb_build_object('sub', v_claims ->> 'sub', 'role', v_claims ->> 'role')),
                              '{}'::jsonb)::text, true);
  perform set_config('edgeguard.client_ip', '', true);
  perform set_config('edgeguard.user_agent', '', true);
  perform private.audit_event(null, 'account.erased',
    v_counts || jsonb_build_object('user_id', p_user_id, 'redacted_ids', to_jsonb(v_redacted)));
  return v_counts;
end;
$$;
comment on function private.erase_user(uuid, boolean) is
  'edgeguard: erase a user (data deleted, auth user deleted unless told not to, audit rows about them redacted; the chain stays verifiable); service only';

-- Privileges -------------------------------------------------------------------

revoke all on function private.audit_personal_text(public.audit_logs), private.audit_personal_digest(public.audit_logs),
  private.audit_logs_redact_only(), private.audit_row_mentions(public.audit_logs, uuid, text),
  private.audit_redact_rows(bigint[]), private.account_export(uuid), private.erase_user(uuid, boolean)
  from public, anon, authenticated, service_role;
-- audit_row_hash (granted to authenticated: verify_audit_chain runs as the caller) uses these two
grant execute on function private.audit_personal_text(public.audit_logs), private.audit_personal_digest(public.audit_logs)
  to authenticated, service_role;
grant execute on function private.account_export(uuid), private.erase_user(uuid, boolean) to service_role;
