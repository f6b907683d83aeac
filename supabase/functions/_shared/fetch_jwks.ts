// Fetches a JWKS document for the core to parse. Only https, or http on a
// loopback host, is fetched; the core validates every key.

const TIMEOUT_MS = 3000;

/** Returns the JWKS body text and its max-age, or throws. */
export async function fetchJwks(url: string): Promise<{ text: string; maxAge: number }> {
  const u = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new Error("JWKS URL must be https (or http on loopback)");
  }
  const res = await fetch(u, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
  const text = await res.text();
  const m = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "");
  return { text, maxAge: m ? Math.min(Number(m[1]), 86400) : 600 };
}
