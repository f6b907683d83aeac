// GET /marketplace/:tenant_id/products/:product_id/image: the stored image,
// for any member of the tenant (RLS), with the type the core detected at
// upload, `Content-Disposition: inline` with the sanitised name, and the
// security headers guard adds (`X-Content-Type-Options: nosniff`). 404 when
// there is none or RLS hides it.
import { asUser } from "../../../../supabase/functions/_shared/db/db.ts";
import { GuardError } from "../../../../supabase/functions/_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** The image as a Response. */
export async function getProductImage(caller: Caller, tenantId: string, productId: string): Promise<Response> {
  const [row] = await asUser(caller.claims, (sql) =>
    sql<{ content_type: string; filename: string; sha256: string; data: Uint8Array<ArrayBuffer> }[]>`
      select content_type, filename, sha256, data from public.product_images
      where tenant_id = ${tenantId}::uuid and product_id = ${productId}::uuid`, caller);
  if (!row) throw new GuardError("NOT_FOUND", "no image for this product");
  return new Response(row.data, {
    headers: {
      "content-type": row.content_type,
      // the stored name is the core's sanitised one (no quotes, controls or separators); encoded for non-ASCII
      "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(row.filename)}`,
      "cache-control": "private, no-cache",
      etag: `"${row.sha256}"`,
    },
  });
}
