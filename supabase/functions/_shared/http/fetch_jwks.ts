// Fetches a JWKS document for the core (a `need_jwks` step). The core chose
// and checked the URL (its one JWKS-URL rule, docs/platform.md), validates
// every key and reads the max-age; redirects are refused. At most `maxBytes`
// (the core's limit) are read: a larger document is refused without
// buffering the rest (docs/memory.md).
import { readBody } from "./read_body.ts";

const TIMEOUT_MS = 3000;

/** A fetched document: the body text and the `Cache-Control` header. */
export interface FetchedJwks {
  text: string;
  cacheControl: string | null;
}

/**
 * The body text and `Cache-Control` of `url`, or throws. Requests that ask
 * for the same URL while a fetch of it is under way share that fetch (the
 * core tells a request naming a just-published kid to wait for the refetch
 * in flight rather than refuse it), so the JWKS endpoint sees one request.
 */
export function fetchJwks(url: string, maxBytes: number): Promise<FetchedJwks> {
  let pending = inFlight.get(url);
  if (!pending) {
    pending = fetchOnce(url, maxBytes).finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
  }
  return pending;
}
const inFlight = new Map<string, Promise<FetchedJwks>>();

async function fetchOnce(url: string, maxBytes: number): Promise<FetchedJwks> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`JWKS fetch answered ${res.status}`);
  }
  const read = await readBody(res, maxBytes);
  if (!read.ok) throw new Error(`JWKS document larger than ${maxBytes} bytes`);
  return { text: new TextDecoder().decode(read.bytes), cacheControl: res.headers.get("cache-control") };
}
