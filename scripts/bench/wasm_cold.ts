// Cold start of the wasm core, run in a fresh process by identity.ts: the
// time of loadWasm() (decode + compile + instantiate) and of the first Guard
// (policy + inline ES256 JWKS), plus the first ES256 verification (p256's own
// verifier: a key's precomputed table is built only after 64 tokens).
// Prints one JSON line. Run: deno run -A scripts/bench/wasm_cold.ts
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import WASM_BASE64 from "../../supabase/functions/_shared/wasm/edgeguard_wasm_bytes.json" with { type: "json" };

const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "cold", alg: "ES256", use: "sig" };
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "ES256", kid: "cold", typ: "JWT" })
  .setSubject(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + 3600).setAudience("authenticated").sign(privateKey);
const env = { SUPABASE_URL: "http://127.0.0.1:1", SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }), APP_ENV: "development" };
const policy = JSON.stringify({ auth: ["user"], routes: [{ method: "GET", path: "/me" }] });

const t0 = performance.now();
const { loadWasm } = await import("../../supabase/functions/_shared/runtime/load_wasm.ts");
const t1 = performance.now();
const wasm = loadWasm();
const t2 = performance.now();
const core = new wasm.Guard(policy, JSON.stringify(env), false);
const t3 = performance.now();
const req = new Request("http://localhost/me", { headers: { authorization: `Bearer ${token}` } });
const ok = core.begin(req, undefined, Date.now()).kind === "allow";
const t4 = performance.now();
if (!ok) throw new Error("cold: token refused");
console.log(JSON.stringify({
  wasm_bytes: Math.floor(WASM_BASE64.length * 3 / 4),
  import_ms: t1 - t0,
  load_wasm_ms: t2 - t1,
  first_gate_ms: t3 - t2,
  first_es256_check_ms: t4 - t3,
}));
