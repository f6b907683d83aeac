-- Recipe "marketplace back office" (examples/marketplace/README.md): product
-- images uploaded by agents and admins through the marketplace function. The
-- core has already checked each file (docs/policy.md, "Uploads"): declared
-- type against magic bytes and structure, size, image dimensions, file name
-- sanitised. The table keeps what it checked, and its constraints repeat the
-- limits, so a write that bypassed the function cannot store something else.
-- One image per product; the recipe has no catalogue table, a product is its
-- id within the tenant.

create table public.product_images (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  product_id uuid not null,
  content_type text not null
    check (content_type in ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
  -- sanitised by the core: no path separators or control characters
  filename text not null
    check (char_length(filename) between 1 and 128 and filename !~ '[/\\[:cntrl:]]'),
  size_bytes integer not null check (size_bytes between 1 and 2097152),
  width integer not null check (width > 0),
  height integer not null check (height > 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  data bytea not null,
  uploaded_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, product_id),
  check (octet_length(data) = size_bytes)
);
comment on table public.product_images is
  'recipe marketplace: one checked image per product; tenant members read, agents and admins write; audited without the bytes';
-- the primary key's index leads with tenant_id (the read and write policies' column)
create index product_images_uploaded_by_idx on public.product_images (uploaded_by);

create trigger set_updated_at before update on public.product_images
  for each row execute function private.set_updated_at();

-- Every write in the tenant's audit chain, the image bytes redacted (the
-- row keeps sha256, size and type, so the trail still names the file).
select private.enable_audit('public.product_images', 'tenant_id', array['data']);

alter table public.product_images enable row level security;
revoke all on table public.product_images from anon, authenticated;
grant select on table public.product_images to authenticated;
grant insert (tenant_id, product_id, content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
  on table public.product_images to authenticated;
grant update (content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
  on table public.product_images to authenticated;

-- Every member of the tenant sees its product images (customers included).
create policy product_images_select_member on public.product_images for select to authenticated
  using (tenant_id in (select private.member_tenant_ids()));

-- Agents and admins (at least `agent` on the ladder) add and replace them,
-- in their own name. Nobody deletes through the API (no grant).
create policy product_images_insert_agent on public.product_images for insert to authenticated
  with check (uploaded_by = (select auth.uid()) and tenant_id in (select private.tenant_ids_with_role('agent')));
create policy product_images_update_agent on public.product_images for update to authenticated
  using (tenant_id in (select private.tenant_ids_with_role('agent')))
  with check (uploaded_by = (select auth.uid()) and tenant_id in (select private.tenant_ids_with_role('agent')));
