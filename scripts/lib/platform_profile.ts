// The environment and gateway of each platform profile: what Supabase really
// hands a function, read from its source (cited in docs/platform.md), so the
// local stack and the tests reproduce it instead of the environment we chose.
//
//   dev                 our own stack: every variable the functions can use
//   start-legacy        `supabase start` without signing keys: one kid-less
//                       `oct` key in SUPABASE_JWKS, SUPABASE_URL=http://kong:8000,
//                       key maps as {"default": …}, no JWT secret
//   start-signing-keys  the same with asymmetric signing keys (our dev ES256 key)
//   hosted              https URL, platform markers, APP_ENV unset (production)
import * as jose from "npm:jose@6.2.17";

export const PROFILES = ["dev", "start-legacy", "start-signing-keys", "hosted"] as const;
export type ProfileName = typeof PROFILES[number];

/** The dev keys of the stack (scripts/dev_keys.ts). */
export interface ProfileKeys {
  private_jwk: jose.JWK;
  jwks: { keys: jose.JWK[] };
  env: Record<string, string>;
}

export interface ProfileSite {
  apiUrl: string;
  dbUrl: string;
}

/** Parses a profile name; throws a clear error for an unknown one. */
export function profileName(raw: string | undefined): ProfileName {
  const name = (raw ?? "").trim() || "dev";
  if (!(PROFILES as readonly string[]).includes(name)) {
    throw new Error(`unknown profile "${name}" (one of: ${PROFILES.join(", ")})`);
  }
  return name as ProfileName;
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** The legacy anon / service_role key JWT, as the CLI mints it (HS256, or the first signing key). */
export async function legacyKeyJwt(profile: ProfileName, keys: ProfileKeys, role: "anon" | "service_role"): Promise<string> {
  const jwt = new jose.SignJWT({ iss: "supabase-demo", role }).setExpirationTime("10y");
  if (profile === "start-signing-keys") {
    const key = await jose.importJWK(keys.private_jwk, "ES256");
    return await jwt.setProtectedHeader({ alg: "ES256", typ: "JWT", kid: keys.private_jwk.kid }).sign(key);
  }
  return await jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(keys.env.JWT_SECRET));
}

/** User secrets: the dev env without platform-reserved names and without the JWT secret (not given by the platform). */
function userSecrets(keys: ProfileKeys): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(keys.env)) {
    if (!k.startsWith("SUPABASE_") && k !== "JWT_SECRET") out[k] = v;
  }
  return out;
}

/** The environment a function gets under `profile` (before supabase/functions/.env and the process env). */
export async function profileEnv(profile: ProfileName, keys: ProfileKeys, site: ProfileSite): Promise<Record<string, string>> {
  const keyMaps = {
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.env.SUPABASE_PUBLISHABLE_KEY }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.env.SUPABASE_SECRET_KEY }),
    SUPABASE_ANON_KEY: await legacyKeyJwt(profile, keys, "anon"),
    SUPABASE_SERVICE_ROLE_KEY: await legacyKeyJwt(profile, keys, "service_role"),
  };
  if (profile === "dev") {
    return {
      ...keys.env,
      ...keyMaps,
      SUPABASE_URL: site.apiUrl,
      SUPABASE_DB_URL: site.dbUrl,
      SUPABASE_JWKS_URL: `${site.apiUrl}/auth/v1/.well-known/jwks.json`,
      SUPABASE_JWKS: JSON.stringify(keys.jwks),
      APP_ENV: "development",
    };
  }
  const executionId = crypto.randomUUID();
  if (profile === "start-legacy" || profile === "start-signing-keys") {
    const jwks = profile === "start-legacy"
      ? { keys: [{ kty: "oct", k: b64url(new TextEncoder().encode(keys.env.JWT_SECRET)) }] }
      : keys.jwks;
    return {
      ...userSecrets(keys),
      ...keyMaps,
      SUPABASE_URL: "http://kong:8000",
      SUPABASE_DB_URL: site.dbUrl,
      SUPABASE_JWKS: JSON.stringify(jwks),
      SB_EXECUTION_ID: executionId,
    };
  }
  return {
    ...userSecrets(keys),
    ...keyMaps,
    SUPABASE_URL: "https://edgeguardlocalref00.supabase.co",
    SUPABASE_DB_URL: site.dbUrl,
    SUPABASE_JWKS: JSON.stringify(keys.jwks),
    SB_REGION: "local-1",
    SB_EXECUTION_ID: executionId,
    DENO_DEPLOYMENT_ID: "edgeguardlocalref00_0001",
  };
}

/** JWT algorithms the profile's gateway accepts for `verify_jwt = true` (docs/platform.md). */
export function gatewayAlgorithms(profile: ProfileName): string[] {
  return profile === "hosted" ? ["HS256"] : ["HS256", "ES256", "RS256", "EdDSA"];
}

/**
 * The `Authorization` header after the gateway, as the local Kong of
 * `supabase start` rewrites it (docs/platform.md): a caller's own value is
 * kept unless it is `Bearer sb_…`; otherwise the secret key becomes the
 * service_role JWT, the publishable key the anon JWT, else the raw apikey.
 * Other profiles pass the header through.
 */
export function gatewayAuthorization(
  profile: ProfileName,
  headers: Headers,
  keys: ProfileKeys,
  legacy: { anon: string; service_role: string },
): string | null {
  const auth = headers.get("authorization");
  if (profile !== "start-legacy" && profile !== "start-signing-keys") return auth;
  if (auth !== null && !auth.startsWith("Bearer sb_")) return auth;
  const apikey = headers.get("apikey");
  if (apikey === keys.env.SUPABASE_SECRET_KEY) return `Bearer ${legacy.service_role}`;
  if (apikey === keys.env.SUPABASE_PUBLISHABLE_KEY) return `Bearer ${legacy.anon}`;
  return apikey;
}
