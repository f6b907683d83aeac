-- pgTAP: recipe marketplace (examples/marketplace), product images: members
-- of the tenant read them, agents and admins add and replace them in their
-- own name, customers and other tenants do not, nobody deletes; the
-- constraints repeat the upload checks; audited without the bytes.
-- Seed UUIDs: docs/database.md (tenant A aaaaaaaa-…-000000000000, its admin
-- …01, customer …04; tenant B bbbbbbbb-…, its admin …01).
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;
-- Helpers eg_tests.actor / try / outcome: 00000_test_helpers.test.sql (runs first).

select plan(16);

insert into auth.users (id, aud, role, email) values
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'authenticated', 'authenticated', 'agent1@tenant-a.test');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'agent');

-- Runs p_sql as the user p_user, always undone: 'allow' when a row was
-- touched, 'deny' on 0 rows or 42501, 'check' on a constraint (23514), else the SQLSTATE.
create function eg_tests.image_as(p_user uuid, p_sql text) returns text
language plpgsql as $$
declare
  v_rows bigint;
  v_result text;
begin
  begin
    perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
    set local role authenticated;
    execute p_sql;
    get diagnostics v_rows = row_count;
    v_result := case when v_rows > 0 then 'allow' else 'deny' end;
    raise exception 'eg_tests.undo';
  exception when others then
    if v_result is null then
      v_result := case sqlstate when '42501' then 'deny' when '23514' then 'check' else 'error:' || sqlstate end;
    end if;
  end;
  return v_result;
end;
$$;

-- An insert of a 4-byte "image" for product p, uploaded by u, in tenant t (with overrides).
create function eg_tests.image_insert(p_tenant text, p_uploader text, p_extra text default '') returns text
language sql as $$
  select format($f$insert into public.product_images
      (tenant_id, product_id, content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
    select %L, '00000000-0000-4000-8000-00000000f00d', 'image/png', 'cat.png', 4, 1, 1, repeat('a', 64), '\x89504e47'::bytea, %L %s$f$,
    p_tenant, p_uploader, p_extra);
$$;

insert into public.product_images (tenant_id, product_id, content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
values ('aaaaaaaa-0000-4000-8000-000000000000', '00000000-0000-4000-8000-0000000000a0', 'image/png', 'a.png', 4, 1, 1, repeat('b', 64), '\x89504e47', null),
       ('bbbbbbbb-0000-4000-8000-000000000000', '00000000-0000-4000-8000-0000000000b0', 'image/png', 'b.png', 4, 1, 1, repeat('c', 64), '\x89504e47', null);

-- Reading.
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-000000000004', $$select 1 from public.product_images$$), 'allow',
  'a customer of the tenant sees its product images');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-000000000004', $$select 1 from public.product_images where tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000'$$), 'deny',
  'not another tenant''s');
select is(eg_tests.image_as('cccccccc-0000-4000-8000-000000000001', $$select 1 from public.product_images$$), 'deny',
  'an outsider sees none');
select is(eg_tests.outcome('anon', $$select 1 from public.product_images$$), 'deny', 'anon reads nothing');

-- Writing.
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1')), 'allow',
  'an agent adds an image in their own name');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000001')), 'deny',
  'not in someone else''s name');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-000000000004',
  eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000004')), 'deny',
  'a customer does not add images');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  eg_tests.image_insert('bbbbbbbb-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1')), 'deny',
  'an agent does not write into another tenant');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-000000000001',
  $$update public.product_images set filename = 'new.png', uploaded_by = 'aaaaaaaa-0000-4000-8000-000000000001' where product_id = '00000000-0000-4000-8000-0000000000a0'$$),
  'allow', 'the admin replaces an image of the tenant');
select is(eg_tests.image_as('bbbbbbbb-0000-4000-8000-000000000001',
  $$update public.product_images set filename = 'x.png', uploaded_by = 'bbbbbbbb-0000-4000-8000-000000000001' where product_id = '00000000-0000-4000-8000-0000000000a0'$$),
  'deny', 'another tenant''s admin does not');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-000000000001',
  $$delete from public.product_images where product_id = '00000000-0000-4000-8000-0000000000a0'$$), 'deny',
  'nobody deletes through the API, not even the admin');

-- The constraints repeat the upload checks.
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  replace(eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1'), '''image/png''', '''image/svg+xml''')),
  'check', 'a type outside the upload list is refused');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  replace(eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1'), '''cat.png''', '''../../cat.png''')),
  'check', 'a file name with a path is refused');
select is(eg_tests.image_as('aaaaaaaa-0000-4000-8000-0000000000a1',
  replace(eg_tests.image_insert('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-0000000000a1'), '''cat.png'', 4,', '''cat.png'', 5,')),
  'check', 'a size that is not the stored bytes'' is refused');

-- The audit log: the write kept with its actor, the bytes redacted.
select set_config('request.jwt.claims', '{"sub": "aaaaaaaa-0000-4000-8000-0000000000a1", "role": "authenticated"}', true);
set local role authenticated;
insert into public.product_images (tenant_id, product_id, content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
values ('aaaaaaaa-0000-4000-8000-000000000000', '00000000-0000-4000-8000-00000000f00d', 'image/png', 'cat.png', 4, 1, 1,
        repeat('a', 64), '\x89504e47', 'aaaaaaaa-0000-4000-8000-0000000000a1');
reset role;
select is((select new_record ->> 'data' from public.audit_logs
           where table_name = 'product_images' and operation = 'INSERT' and actor_id = 'aaaaaaaa-0000-4000-8000-0000000000a1'),
  '[redacted]', 'the agent''s upload is audited, the bytes redacted');
select is((select new_record ->> 'sha256' from public.audit_logs
           where table_name = 'product_images' and operation = 'INSERT' and actor_id = 'aaaaaaaa-0000-4000-8000-0000000000a1'),
  repeat('a', 64), 'the audit row names the file by its digest');

select * from finish();
rollback;
