import { gatewayAlgorithms, gatewayAuthorization, legacyKeyJwt, profileEnv, profileName, type ProfileKeys } from "./platform_profile.ts";
import * as jose from "npm:jose@6.2.17";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function keys(): Promise<ProfileKeys> {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const meta = { kid: "dev-1", alg: "ES256", use: "sig" };
  return {
    private_jwk: { ...(await jose.exportJWK(privateKey)), ...meta },
    jwks: { keys: [{ ...(await jose.exportJWK(publicKey)), ...meta }] },
    env: {
      JWT_SECRET: "super-secret-jwt-token-with-at-least-32-characters-long",
      SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc",
      SUPABASE_SECRET_KEY: "sb_secret_abc",
      CSRF_SECRET: "c".repeat(40),
    },
  };
}
const site = { apiUrl: "http://127.0.0.1:1", dbUrl: "postgresql://postgres:postgres@127.0.0.1:2/postgres" };

Deno.test("start-legacy: one kid-less oct key holding the JWT secret, kong URL, no JWT secret", async () => {
  const k = await keys();
  const env = await profileEnv("start-legacy", k, site);
  const jwks = JSON.parse(env.SUPABASE_JWKS);
  assert(jwks.keys.length === 1 && jwks.keys[0].kty === "oct" && !("kid" in jwks.keys[0]) && !("alg" in jwks.keys[0]), env.SUPABASE_JWKS);
  assert(new TextDecoder().decode(jose.base64url.decode(jwks.keys[0].k)) === k.env.JWT_SECRET, "k is base64url of the secret");
  assert(!/=/.test(jwks.keys[0].k), "unpadded");
  assert(env.SUPABASE_URL === "http://kong:8000", env.SUPABASE_URL);
  assert(!("JWT_SECRET" in env) && !("APP_ENV" in env) && !("SUPABASE_JWKS_URL" in env), "no JWT secret, APP_ENV or JWKS URL");
  assert(JSON.parse(env.SUPABASE_PUBLISHABLE_KEYS).default === "sb_publishable_abc", "key map");
  assert(env.CSRF_SECRET === k.env.CSRF_SECRET, "user secrets kept");
  assert(!("SB_REGION" in env) && env.SB_EXECUTION_ID, "SB_EXECUTION_ID only");
  const anon = jose.decodeProtectedHeader(env.SUPABASE_ANON_KEY);
  assert(anon.alg === "HS256", "legacy anon key is HS256");
});

Deno.test("start-signing-keys and hosted: public keys only; hosted has markers and https", async () => {
  const k = await keys();
  const s = await profileEnv("start-signing-keys", k, site);
  assert(JSON.parse(s.SUPABASE_JWKS).keys[0].kty === "EC", "EC key");
  assert(jose.decodeProtectedHeader(s.SUPABASE_SERVICE_ROLE_KEY).alg === "ES256", "legacy keys signed with the signing key");
  const h = await profileEnv("hosted", k, site);
  assert(h.SUPABASE_URL.startsWith("https://"), h.SUPABASE_URL);
  assert(h.SB_REGION && h.DENO_DEPLOYMENT_ID, "markers");
  assert(!("APP_ENV" in h) && !("JWT_SECRET" in h), "APP_ENV unset");
  assert(gatewayAlgorithms("hosted").join() === "HS256", "hosted gateway: legacy HS256 only");
});

Deno.test("gateway Authorization rewrite follows the local Kong rule", async () => {
  const k = await keys();
  const legacy = { anon: await legacyKeyJwt("start-legacy", k, "anon"), service_role: "SERVICE" };
  const h = (o: Record<string, string>) => new Headers(o);
  for (const p of ["start-legacy", "start-signing-keys"] as const) {
    assert(gatewayAuthorization(p, h({ authorization: "Bearer user.jwt" , apikey: "sb_publishable_abc" }), k, legacy) === "Bearer user.jwt", "own token kept");
    assert(gatewayAuthorization(p, h({ authorization: "Bearer sb_publishable_abc", apikey: "sb_publishable_abc" }), k, legacy) === `Bearer ${legacy.anon}`, "Bearer sb_ replaced");
    assert(gatewayAuthorization(p, h({ apikey: "sb_secret_abc" }), k, legacy) === "Bearer SERVICE", "secret → service_role");
    assert(gatewayAuthorization(p, h({ apikey: "other" }), k, legacy) === "other", "raw apikey, no Bearer");
    assert(gatewayAuthorization(p, h({}), k, legacy) === null, "nothing");
  }
  assert(gatewayAuthorization("hosted", h({ apikey: "sb_secret_abc" }), k, legacy) === null, "hosted passes through");
  assert(profileName(undefined) === "dev" && profileName("hosted") === "hosted", "names");
  let threw = false;
  try { profileName("nope"); } catch { threw = true; }
  assert(threw, "unknown profile refused");
});
