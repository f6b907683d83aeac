// Reads a request body with a byte counter, stopping at the route's limit:
// an oversized body is refused (413) as soon as the limit is crossed, without
// reading or buffering the rest.

/** The body's bytes, or `tooLarge` when it exceeded `limit`. */
export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true };

/** Reads at most `limit` bytes of `req`'s body (a Request's, or a fetched Response's). */
export async function readBody(req: Pick<Request, "headers" | "body">, limit: number): Promise<BodyRead> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^[0-9]{1,16}$/.test(declared) && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, tooLarge: true };
  }
  if (!req.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, bytes };
}
