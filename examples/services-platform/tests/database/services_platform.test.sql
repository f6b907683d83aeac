-- pgTAP: recipe services-platform (examples/services-platform). RLS sees the
-- claims the core mapped (docs/issuers.md): a Clerk user is (issuer clerk,
-- tenant org_…, text sub); a Supabase user has no `issuer` claim. Services:
-- the tenant reads, providers+ offer their own, moderators+ delete. Bookings:
-- customers their own, providers those of their services, moderators+ all.
-- Tenants of two issuers never meet, even with equal ids.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(16);

-- Runs p_sql with request.jwt.claims = p_claims as `authenticated`, always
-- undone: 'allow' when a row was touched, 'deny' on 0 rows or 42501, else the SQLSTATE.
create function eg_tests.as_claims(p_claims jsonb, p_sql text) returns text
language plpgsql as $$
declare
  v_rows bigint;
  v_result text;
begin
  begin
    perform set_config('request.jwt.claims', p_claims::text, true);
    set local role authenticated;
    execute p_sql;
    get diagnostics v_rows = row_count;
    v_result := case when v_rows > 0 then 'allow' else 'deny' end;
    raise exception 'eg_tests.undo';
  exception when others then
    if v_result is null then
      v_result := case sqlstate when '42501' then 'deny' else 'error:' || sqlstate end;
    end if;
  end;
  return v_result;
end;
$$;

create function eg_tests.clerk(p_sub text, p_org text, p_role text) returns jsonb
language sql immutable as $$
  select jsonb_build_object('sub', p_sub, 'role', 'authenticated', 'issuer', 'clerk',
                            'tenant_id', p_org, 'user_role', p_role);
$$;

-- Rows as the service writes them (RLS bypassed by the owner).
insert into public.services (id, issuer, tenant_key, provider_sub, title, price_cents) values
  ('5e000000-0000-4000-8000-000000000001', 'clerk', 'org_A', 'user_prov', 'Haircut', 2500),
  ('5e000000-0000-4000-8000-000000000002', 'supabase', 'org_A', 'aaaaaaaa-0000-4000-8000-000000000003', 'Lookalike', 100);
insert into public.bookings (issuer, tenant_key, service_id, provider_sub, customer_sub, note) values
  ('clerk', 'org_A', '5e000000-0000-4000-8000-000000000001', 'user_prov', 'user_c1', 'one'),
  ('clerk', 'org_A', '5e000000-0000-4000-8000-000000000001', 'user_prov', 'user_c2', 'two');

select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$select 1 from public.services where id = '5e000000-0000-4000-8000-000000000001'$$), 'allow', 'a member reads the tenant''s services');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$select 1 from public.services where id = '5e000000-0000-4000-8000-000000000002'$$), 'deny', 'a Supabase tenant with the same id stays invisible to Clerk users');
select is(eg_tests.as_claims('{"sub": "aaaaaaaa-0000-4000-8000-000000000003", "role": "authenticated", "tenant_id": "org_A", "user_role": "provider"}',
  $$select 1 from public.services where id = '5e000000-0000-4000-8000-000000000001'$$), 'deny', 'and the other way round');
select is(eg_tests.as_claims(eg_tests.clerk('user_x', 'org_B', 'admin'),
  $$select 1 from public.services$$), 'deny', 'another org reads nothing');
select is(eg_tests.as_claims(eg_tests.clerk('user_prov', 'org_A', 'provider'),
  $$insert into public.services (tenant_key, provider_sub, title, price_cents) values ('org_A', 'user_prov', 'New', 1)$$), 'allow', 'a provider offers a service as themself');
select is(eg_tests.as_claims(eg_tests.clerk('user_prov', 'org_A', 'provider'),
  $$insert into public.services (tenant_key, provider_sub, title, price_cents) values ('org_A', 'user_other', 'New', 1)$$), 'deny', 'not as someone else');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$insert into public.services (tenant_key, provider_sub, title, price_cents) values ('org_A', 'user_c1', 'New', 1)$$), 'deny', 'a customer offers nothing');
select is(eg_tests.as_claims(eg_tests.clerk('user_prov', 'org_A', 'provider'),
  $$insert into public.services (issuer, tenant_key, provider_sub, title, price_cents) values ('supabase', 'org_A', 'user_prov', 'New', 1)$$), 'deny', 'the issuer column is not the caller''s to choose');
select is(eg_tests.as_claims(eg_tests.clerk('user_prov', 'org_A', 'provider'),
  $$delete from public.services where id = '5e000000-0000-4000-8000-000000000001'$$), 'deny', 'a provider deletes nothing');
select is(eg_tests.as_claims(eg_tests.clerk('user_mod', 'org_A', 'moderator'),
  $$delete from public.services where id = '5e000000-0000-4000-8000-000000000001'$$), 'allow', 'a moderator takes a service down');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$select 1 from public.bookings where note = 'two'$$), 'deny', 'a customer does not see another''s booking');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$select 1 from public.bookings where note = 'one'$$), 'allow', 'but sees their own');
select is(eg_tests.as_claims(eg_tests.clerk('user_prov', 'org_A', 'provider'),
  $$select 1 from public.bookings having count(*) = 2$$), 'allow', 'the provider sees the bookings of their service');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$insert into public.bookings (tenant_key, service_id, provider_sub, customer_sub) values ('org_A', '5e000000-0000-4000-8000-000000000001', 'user_prov', 'user_c1')$$), 'allow', 'a customer books for themself');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$insert into public.bookings (tenant_key, service_id, provider_sub, customer_sub) values ('org_A', '5e000000-0000-4000-8000-000000000001', 'user_prov', 'user_c2')$$), 'deny', 'not for someone else');
select is(eg_tests.as_claims(eg_tests.clerk('user_c1', 'org_A', 'customer'),
  $$insert into public.bookings (tenant_key, service_id, provider_sub, customer_sub) values ('org_A', '5e000000-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003', 'user_c1')$$), 'deny', 'nor a service of the other issuer''s tenant');

select * from finish();
rollback;
