-- edgeguard: Supabase's default privileges also grant ALL on new sequences in
-- public to anon and authenticated. Clients insert into no table with an
-- identity column, so they need none: without this, anyone could advance the
-- audit and security event counters (nextval / setval) and read their values.
-- Identity columns need no sequence privilege for inserts by the service.
revoke all on sequence public.audit_logs_id_seq, public.security_events_id_seq from anon, authenticated;
