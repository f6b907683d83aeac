// The identity benchmarks' credentials (./identity.ts, ./ab/wasm_variants.ts):
// an ES256 key published as an inline JWKS and an HS256 secret, set in this
// process's environment the way a function gets them, and Supabase-shaped
// user tokens signed with jose.
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";

/** Sets the environment `guard()` and the anchor read; returns `mint`. */
export async function identityTokens(label: string) {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `${label}-es256`, alg: "ES256", use: "sig" };
  const hsSecret = `${label}-hs256-secret-0123456789-abcdefghijklmnopqr`;
  Deno.env.set("SUPABASE_URL", "http://127.0.0.1:1");
  Deno.env.set("SUPABASE_JWKS", JSON.stringify({ keys: [jwk] }));
  Deno.env.set("JWT_SECRET", hsSecret);
  Deno.env.set("SUPABASE_PUBLISHABLE_KEYS", JSON.stringify({ default: `sb_publishable_${label}` }));
  Deno.env.set("SUPABASE_SECRET_KEYS", JSON.stringify({ default: `sb_secret_${label}` }));
  Deno.env.set("APP_ENV", "development");
  const now = Math.floor(Date.now() / 1000);

  /** `n` distinct user tokens (a new subject each), signed ES256 (the JWKS key) or HS256 (the secret). */
  async function mint(n: number, alg: "ES256" | "HS256"): Promise<string[]> {
    const key = alg === "ES256" ? privateKey : new TextEncoder().encode(hsSecret);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(
        await new SignJWT({ role: "authenticated", email: `u${i}@${label}.test`, aal: "aal1", session_id: `s${i}` })
          .setProtectedHeader(alg === "ES256" ? { alg, kid: jwk.kid, typ: "JWT" } : { alg, typ: "JWT" })
          .setSubject(crypto.randomUUID())
          .setIssuedAt(now)
          .setExpirationTime(now + 3600)
          .setAudience("authenticated")
          .sign(key),
      );
    }
    return out;
  }
  return { mint };
}
