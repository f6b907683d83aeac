-- edgeguard: Supabase Auth custom access token hook, as a Postgres function.
--
-- Enable it in the dashboard (Authentication → Hooks → Custom Access Token →
-- Postgres, public.custom_access_token_hook) or in supabase/config.toml:
--   [auth.hook.custom_access_token]
--   enabled = true
--   uri = "pg-functions://postgres/public/custom_access_token_hook"
-- The HTTP variant (`auth-hooks` function) may call it too, through the
-- service connection: select public.custom_access_token_hook($1::jsonb).
--
-- Adds to the claims Supabase already put in the token (all required claims
-- are kept as they are):
--   user_role    the user's role in the chosen tenant ('guest' without one,
--                and always for anonymous users)
--   tenant_id    the chosen tenant: app_metadata.tenant_id when the user is a
--                member there, else the oldest membership; absent without one
--   permissions  every permission of that role and the roles below it (sorted)

create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  v_user_text text := event ->> 'user_id';
  v_user uuid;
  v_pref_text text := v_claims -> 'app_metadata' ->> 'tenant_id';
  v_pref uuid;
  v_tenant uuid;
  v_role text;
  v_permissions jsonb;
begin
  if v_user_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_user := v_user_text::uuid;
  end if;
  if v_pref_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_pref := v_pref_text::uuid;
  end if;

  if v_user is not null and coalesce(v_claims ->> 'is_anonymous', 'false') <> 'true' then
    select m.tenant_id, m.role into v_tenant, v_role
    from public.tenant_members m
    where m.user_id = v_user
    order by (m.tenant_id = v_pref) desc nulls last, m.created_at, m.tenant_id
    limit 1;
  end if;
  v_role := coalesce(v_role, 'guest');

  select coalesce(jsonb_agg(distinct p.permission order by p.permission), '[]'::jsonb)
    into v_permissions
  from public.role_permissions p
  join public.roles r on r.name = p.role
  where r.rank <= (select r2.rank from public.roles r2 where r2.name = v_role);

  v_claims := v_claims || jsonb_build_object('user_role', v_role, 'permissions', v_permissions);
  if v_tenant is not null then
    v_claims := v_claims || jsonb_build_object('tenant_id', v_tenant);
  else
    v_claims := v_claims - 'tenant_id';
  end if;
  return jsonb_set(event, '{claims}', v_claims);
end;
$$;
comment on function public.custom_access_token_hook(jsonb) is
  'edgeguard: Supabase Auth custom access token hook adding user_role, tenant_id and permissions';

-- The grants Supabase documents for SQL hooks: only supabase_auth_admin runs
-- the hook and reads what it needs; clients cannot call it.
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from authenticated, anon, public;

grant select on table public.tenant_members, public.roles, public.role_permissions to supabase_auth_admin;
-- doctor: allow sql.permissive_policy the access-token hook (supabase_auth_admin) reads every membership
create policy tenant_members_auth_admin_select on public.tenant_members
  as permissive for select to supabase_auth_admin using (true);
-- doctor: allow sql.permissive_policy the access-token hook (supabase_auth_admin) reads every membership
create policy roles_auth_admin_select on public.roles
  as permissive for select to supabase_auth_admin using (true);
-- doctor: allow sql.permissive_policy the access-token hook (supabase_auth_admin) reads every membership
create policy role_permissions_auth_admin_select on public.role_permissions
  as permissive for select to supabase_auth_admin using (true);
