// PUT /marketplace/:tenant_id/products/:product_id/image: an agent or admin
// sets a product's image. The core has checked the upload before this runs
// (policy.json `body.upload`, docs/policy.md "Uploads"): the declared type is
// allowed and the bytes are a well-formed file of it, within the size and
// pixel limits, the file name sanitised. `ctx.body` describes the file; its
// bytes are `ctx.rawBody[offset .. offset + size]`. Stored as the caller
// under RLS (one image per product, replaced), audited without the bytes.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import type { Caller } from "./caller.ts";

/** The core's description of the accepted file (`ctx.body` on an upload route). */
export interface CheckedUpload {
  type: string;
  filename: string;
  size: number;
  offset: number;
  sha256: string;
  width: number;
  height: number;
}

interface ImageRow {
  product_id: string;
  content_type: string;
  filename: string;
  size_bytes: number;
  width: number;
  height: number;
  sha256: string;
  updated_at: Date;
}

/** Inserts or replaces the product's image as the caller; returns its metadata. */
export async function putProductImage(caller: Caller, tenantId: string, productId: string, file: CheckedUpload, raw: Uint8Array) {
  const bytes = raw.subarray(file.offset, file.offset + file.size);
  const uploader = String(caller.claims.sub);
  const [row] = await asUser(caller.claims, (sql) =>
    sql<ImageRow[]>`insert into public.product_images
        (tenant_id, product_id, content_type, filename, size_bytes, width, height, sha256, data, uploaded_by)
      values (${tenantId}::uuid, ${productId}::uuid, ${file.type}, ${file.filename}, ${file.size},
              ${file.width}, ${file.height}, ${file.sha256}, ${bytes}, ${uploader}::uuid)
      on conflict (tenant_id, product_id) do update set
        content_type = excluded.content_type, filename = excluded.filename, size_bytes = excluded.size_bytes,
        width = excluded.width, height = excluded.height, sha256 = excluded.sha256, data = excluded.data,
        uploaded_by = excluded.uploaded_by
      returning product_id, content_type, filename, size_bytes, width, height, sha256, updated_at`, caller);
  return row;
}
