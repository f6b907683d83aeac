-- edgeguard: audit rows take the client IP only from the function that wrote
-- them, which resolved it from the deployment's trusted hop with the same rule
-- as the rate limiter (docs/platform.md). The leftmost `x-forwarded-for` the
-- trigger used as a fallback is set by the client and is no longer read.

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

