// The fixture every fresh-isolate benchmark reads (../cold_start.ts,
// first_steps.ts, setup_steps.ts): the environment of a function with an
// inline ES256 JWKS, and `n` ES256 user tokens for it, each used once.
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";

export interface Fixture {
  env: Record<string, string>;
  tokens: string[];
}

/** A fresh key, its environment and `n` tokens valid for `validSeconds`. */
export async function makeFixture(n: number, validSeconds = 3600): Promise<Fixture> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench-cold", alg: "ES256", use: "sig" };
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(
      await new SignJWT({ role: "authenticated", email: `u${i}@bench.test`, aal: "aal1", session_id: `s${i}` })
        .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
        .setSubject(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + validSeconds)
        .setAudience("authenticated").sign(privateKey),
    );
  }
  const env = {
    SUPABASE_URL: "http://127.0.0.1:1",
    SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: "sb_publishable_bench" }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: "sb_secret_bench" }),
    APP_ENV: "development",
  };
  return { env, tokens };
}
