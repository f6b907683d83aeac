// Fetches a JWKS document for the core to parse. The core chose and checked
// the URL (its one JWKS-URL rule, docs/platform.md) and validates every key;
// redirects are refused.

const TIMEOUT_MS = 3000;

/** Returns the JWKS body text and its max-age, or throws. */
export async function fetchJwks(url: string): Promise<{ text: string; maxAge: number }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
  const text = await res.text();
  const m = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "");
  return { text, maxAge: m ? Math.min(Number(m[1]), 86400) : 600 };
}
