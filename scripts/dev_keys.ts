// Dev keys for the local stack, generated once into <state>/keys/ (never committed).
//
//   deno run -A scripts/dev_keys.ts [--dir .local]
//
// <state>/keys/dev-keys.json holds everything (private ES256 JWK, public JWKS,
// env values); <state>/keys/jwks.json is the public JWKS the server publishes.
// Existing values are kept; values added by newer versions of this script are
// filled in.
import * as jose from "npm:jose@6.2.17";

export interface DevKeys {
  /** Private ES256 JWK (with kid, alg, use) that signs dev tokens. */
  private_jwk: jose.JWK;
  /** Public JWKS served at /auth/v1/.well-known/jwks.json. */
  jwks: { keys: jose.JWK[] };
  /** Secrets handed to functions as environment variables. */
  env: Record<string, string>;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function alnum(n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // 248 = 4 * 62: rejection sampling keeps the distribution uniform.
  let out = "";
  while (out.length < n) {
    for (const b of randomBytes(n)) {
      if (b < 248 && out.length < n) out += alphabet[b % 62];
    }
  }
  return out;
}

/** Generators for every env value the local stack provides. */
const ENV_GENERATORS: Record<string, () => string> = {
  JWT_SECRET: () => base64url(randomBytes(48)),
  SUPABASE_PUBLISHABLE_KEY: () => `sb_publishable_${alnum(32)}`,
  SUPABASE_SECRET_KEY: () => `sb_secret_${alnum(32)}`,
  SECRET_KEY: () => base64url(randomBytes(48)),
  CSRF_SECRET: () => base64url(randomBytes(48)),
  STRIPE_WEBHOOK_SECRET: () => `whsec_${alnum(32)}`,
  STANDARD_WEBHOOK_SECRET: () => `v1,whsec_${base64(randomBytes(32))}`,
  AUTH_HOOK_SECRET: () => `v1,whsec_${base64(randomBytes(32))}`,
  GITHUB_WEBHOOK_SECRET: () => hex(randomBytes(32)),
  SHOPIFY_WEBHOOK_SECRET: () => hex(randomBytes(32)),
  // signs security alerts (docs/alerts.md); they are sent only where SECURITY_WEBHOOK_URL is set
  SECURITY_WEBHOOK_SECRET: () => `whsec_${base64(randomBytes(32))}`,
};

async function newSigningKey(): Promise<{ private_jwk: jose.JWK; public_jwk: jose.JWK }> {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const pub = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(pub);
  const meta = { kid, alg: "ES256", use: "sig" };
  return {
    private_jwk: { ...(await jose.exportJWK(privateKey)), ...meta, key_ops: ["sign"] },
    public_jwk: { ...pub, ...meta, key_ops: ["verify"] },
  };
}

/** An Ed25519 pair for audit checkpoints: the seed (function secret) and the public key, base64url. */
async function newAuditKeyPair(): Promise<{ AUDIT_SIGNING_KEY: string; AUDIT_VERIFY_KEY: string }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { AUDIT_SIGNING_KEY: jwk.d!, AUDIT_VERIFY_KEY: jwk.x! };
}

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Loads the dev keys from `<dir>/keys/`, creating or completing them. */
export async function ensureDevKeys(dir: string): Promise<DevKeys> {
  const keysDir = `${dir}/keys`;
  const file = `${keysDir}/dev-keys.json`;
  const existing = (await readJson(file)) as Partial<DevKeys> | undefined;
  let changed = existing === undefined;

  let private_jwk = existing?.private_jwk;
  let jwks = existing?.jwks;
  if (!private_jwk || !jwks?.keys?.length) {
    const key = await newSigningKey();
    private_jwk = key.private_jwk;
    jwks = { keys: [key.public_jwk] };
    changed = true;
  }
  const env: Record<string, string> = { ...(existing?.env ?? {}) };
  for (const [name, generate] of Object.entries(ENV_GENERATORS)) {
    if (!env[name]) {
      env[name] = generate();
      changed = true;
    }
  }
  // generated as a pair: the verifier (tests, `edgeguard audit verify`) needs the public half
  if (!env.AUDIT_SIGNING_KEY || !env.AUDIT_VERIFY_KEY) {
    Object.assign(env, await newAuditKeyPair());
    changed = true;
  }
  const keys: DevKeys = { private_jwk, jwks, env };

  if (changed) {
    await Deno.mkdir(keysDir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
    await Deno.rename(`${file}.tmp`, file);
    await Deno.writeTextFile(`${keysDir}/jwks.json`, JSON.stringify(jwks, null, 2) + "\n");
  }
  return keys;
}

/** The state directory from `--dir`, EDGEGUARD_STATE_DIR, or `<repo>/.local`. */
export function stateDir(args: string[] = Deno.args): string {
  const i = args.indexOf("--dir");
  if (i >= 0 && args[i + 1]) return args[i + 1];
  return Deno.env.get("EDGEGUARD_STATE_DIR") ??
    decodeURIComponent(new URL("../.local", import.meta.url).pathname);
}

if (import.meta.main) {
  const dir = stateDir();
  const keys = await ensureDevKeys(dir);
  console.error(`dev keys: ${dir}/keys/ (kid ${keys.private_jwk.kid})`);
}
