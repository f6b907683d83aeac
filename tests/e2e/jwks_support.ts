// A JWKS server on loopback and ES256 key pairs, for tests that publish,
// rotate and retire signing keys over a live function server
// (SUPABASE_JWKS_URL pointing here, no inline SUPABASE_JWKS).
import * as jose from "npm:jose@6.2.17";

/** An ES256 signing key and its public JWK (kid, alg, use set). */
export interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  jwk: jose.JWK;
}

/** A fresh ES256 key pair named `kid`. */
export async function keyPair(kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey, jwk: { ...await jose.exportJWK(publicKey), kid, alg: "ES256", use: "sig" } };
}

/** The JWKS server: serves `state.keys` (cache-control `max-age`, default 600 s), counts fetches. */
export function jwksServer(maxAge = 600) {
  const state = { keys: [] as jose.JWK[], fetches: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname !== "/auth/v1/.well-known/jwks.json") return new Response("not found", { status: 404 });
    state.fetches++;
    return Response.json({ keys: state.keys }, { headers: { "cache-control": `public, max-age=${maxAge}` } });
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/auth/v1/.well-known/jwks.json`;
  return { state, url, stop: () => server.shutdown() };
}
