-- edgeguard bootstrap: gives a plain Postgres 15 what Supabase's image
-- provides and the migrations rely on. Every statement is applied only when
-- its object is absent, so running it on a database that already has it (a
-- hosted Supabase project, or a second run) changes nothing. It is NOT a
-- migration and is never pushed to Supabase: `supabase db push` sends only
-- supabase/migrations/*.sql.
--
-- Provides: roles anon, authenticated, service_role, authenticator,
-- supabase_auth_admin; schemas auth and extensions (pgcrypto there);
-- auth.users and auth.identities with the columns Supabase has that the
-- project uses; auth.uid(), auth.role(), auth.email(), auth.jwt() as Supabase
-- defines them; Supabase's grants and default privileges on schema public.

-- Roles ----------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole;
  end if;
end
$$;

do $$
begin
  if not pg_has_role('authenticator', 'anon', 'member') then
    grant anon to authenticator;
  end if;
  if not pg_has_role('authenticator', 'authenticated', 'member') then
    grant authenticated to authenticator;
  end if;
  if not pg_has_role('authenticator', 'service_role', 'member') then
    grant service_role to authenticator;
  end if;
end
$$;

-- Schemas and extensions -----------------------------------------------------
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

do $$
begin
  if not exists (select 1 from pg_namespace where nspname = 'auth') then
    create schema auth authorization supabase_auth_admin;
    grant usage on schema auth to anon, authenticated, service_role;
  end if;
  -- Supabase grants usage on extensions to every API role.
  if not has_schema_privilege('authenticated', 'extensions', 'usage') then
    grant usage on schema extensions to anon, authenticated, service_role;
  end if;
end
$$;

-- auth.users / auth.identities (the subset of GoTrue's columns used here) ----
do $$
begin
  if to_regclass('auth.users') is null then
    create table auth.users (
      instance_id uuid,
      id uuid not null primary key,
      aud varchar(255),
      role varchar(255),
      email varchar(255),
      encrypted_password varchar(255),
      email_confirmed_at timestamptz,
      invited_at timestamptz,
      confirmation_token varchar(255),
      confirmation_sent_at timestamptz,
      recovery_token varchar(255),
      recovery_sent_at timestamptz,
      email_change_token_new varchar(255),
      email_change varchar(255),
      email_change_sent_at timestamptz,
      last_sign_in_at timestamptz,
      raw_app_meta_data jsonb,
      raw_user_meta_data jsonb,
      is_super_admin boolean,
      created_at timestamptz default now(),
      updated_at timestamptz default now(),
      phone text unique default null,
      phone_confirmed_at timestamptz,
      banned_until timestamptz,
      deleted_at timestamptz,
      is_sso_user boolean not null default false,
      is_anonymous boolean not null default false
    );
    create unique index users_email_partial_key on auth.users (email) where is_sso_user = false;
    alter table auth.users owner to supabase_auth_admin;
    alter table auth.users enable row level security;
  end if;
  if to_regclass('auth.identities') is null then
    create table auth.identities (
      provider_id text not null,
      user_id uuid not null references auth.users (id) on delete cascade,
      identity_data jsonb not null,
      provider text not null,
      last_sign_in_at timestamptz,
      created_at timestamptz,
      updated_at timestamptz,
      email text generated always as (lower(identity_data ->> 'email')) stored,
      id uuid not null default gen_random_uuid() primary key,
      constraint identities_provider_id_provider_unique unique (provider_id, provider)
    );
    create index identities_user_id_idx on auth.identities (user_id);
    alter table auth.identities owner to supabase_auth_admin;
    alter table auth.identities enable row level security;
  end if;
end
$$;

-- auth.uid() / auth.role() / auth.email() / auth.jwt(), as Supabase defines
-- them: the newer `request.jwt.claims` JSON setting, with the older
-- per-claim `request.jwt.claim.<name>` settings taking precedence.
do $$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
    comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
    comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
  end if;
  if to_regprocedure('auth.email()') is null then
    create function auth.email() returns text
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
      )::text
    $f$;
    comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  end if;
end
$$;

do $$
begin
  if not has_function_privilege('authenticated', 'auth.uid()', 'execute') then
    grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
      to anon, authenticated, service_role;
  end if;
  if not has_table_privilege('service_role', 'auth.users', 'select') then
    grant all on auth.users, auth.identities to service_role;
  end if;
end
$$;

-- Supabase's grants on schema public and default privileges for objects the
-- migration owner (postgres) creates there: ALL to every API role. Migrations
-- therefore revoke whatever a table or function must not allow. GRANT and
-- ALTER DEFAULT PRIVILEGES are idempotent.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
