// Fetches a JWKS document for the core (a `need_jwks` step). The core chose
// and checked the URL (its one JWKS-URL rule, docs/platform.md), validates
// every key and reads the max-age; redirects are refused. At most `maxBytes`
// (the core's limit) are read: a larger document is refused without
// buffering the rest (docs/memory.md).
import { readBody } from "./read_body.ts";

const TIMEOUT_MS = 3000;

/** The body text and the `Cache-Control` header, or throws. */
export async function fetchJwks(url: string, maxBytes: number): Promise<{ text: string; cacheControl: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`JWKS fetch answered ${res.status}`);
  }
  const read = await readBody(res, maxBytes);
  if (!read.ok) throw new Error(`JWKS document larger than ${maxBytes} bytes`);
  return { text: new TextDecoder().decode(read.bytes), cacheControl: res.headers.get("cache-control") };
}
