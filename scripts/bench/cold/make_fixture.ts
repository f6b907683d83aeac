// Writes a fixture for first_steps.ts and setup_steps.ts: the environment of
// ../cold_start.ts (inline ES256 JWKS) and 20 ES256 user tokens valid 10 hours.
//   deno run -A scripts/bench/cold/make_fixture.ts /tmp/fixture.json
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";

const [out] = Deno.args;
if (!out) throw new Error("usage: make_fixture.ts <out.json>");
const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "bench-cold", alg: "ES256", use: "sig" };
const now = Math.floor(Date.now() / 1000);
const tokens: string[] = [];
for (let i = 0; i < 20; i++) {
  tokens.push(
    await new SignJWT({ role: "authenticated", email: `u${i}@bench.test`, aal: "aal1", session_id: `s${i}` })
      .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
      .setSubject(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + 36_000)
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
await Deno.writeTextFile(out, JSON.stringify({ env, tokens }));
