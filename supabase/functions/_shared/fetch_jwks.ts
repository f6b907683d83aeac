// Fetches a JWKS document for the core to parse. The core chose and checked
// the URL (its one JWKS-URL rule, docs/platform.md) and validates every key;
// redirects are refused. At most `maxBytes` (the core's limit) are read: a
// larger document is refused without buffering the rest (docs/memory.md).
import { readBody } from "./read_body.ts";

const TIMEOUT_MS = 3000;

/**
 * Returns the JWKS body text and its max-age, or throws. Requests that ask
 * for the same URL while a fetch of it is under way share that fetch (the
 * core tells a request naming a just-published kid to wait for the refetch
 * in flight rather than refuse it), so the JWKS endpoint sees one request.
 */
export function fetchJwks(url: string, maxBytes: number): Promise<{ text: string; maxAge: number }> {
  let pending = inFlight.get(url);
  if (!pending) {
    pending = fetchOnce(url, maxBytes).finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
  }
  return pending;
}
const inFlight = new Map<string, Promise<{ text: string; maxAge: number }>>();

async function fetchOnce(url: string, maxBytes: number): Promise<{ text: string; maxAge: number }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`JWKS fetch answered ${res.status}`);
  }
  const read = await readBody(res, maxBytes);
  if (!read.ok) throw new Error(`JWKS document larger than ${maxBytes} bytes`);
  const text = new TextDecoder().decode(read.bytes);
  const m = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "");
  return { text, maxAge: m ? Math.min(Number(m[1]), 86400) : 600 };
}
