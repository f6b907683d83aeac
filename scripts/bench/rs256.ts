// Token algorithms in wasm: per-request medians of guard() with a new token
// every request, ES256 (anchor: Supabase's default) against RS256 2048/4096
// (our RSASSA-PKCS1-v1_5 verifier, crates/edgeguard-core/src/auth/rsa.rs)
// and EdDSA, all keys in one inline JWKS.
// Run: deno run -A scripts/bench/rs256.ts (after bash scripts/build.sh)
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { measureInterleaved, reportInterleaved } from "./measure.ts";

type Alg = "ES256" | "RS256" | "EdDSA";
const keys = [
  { kid: "es", alg: "ES256" as Alg, pair: await generateKeyPair("ES256", { extractable: true }) },
  { kid: "rs2048", alg: "RS256" as Alg, pair: await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 }) },
  { kid: "rs4096", alg: "RS256" as Alg, pair: await generateKeyPair("RS256", { extractable: true, modulusLength: 4096 }) },
  { kid: "ed", alg: "EdDSA" as Alg, pair: await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" }) },
];
const jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.pair.publicKey)), kid: k.kid, alg: k.alg, use: "sig" }))) };
Deno.env.set("SUPABASE_URL", "http://127.0.0.1:1");
Deno.env.set("SUPABASE_JWKS", JSON.stringify(jwks));
Deno.env.set("JWT_SECRET", "bench-hs256-secret-0123456789-abcdefghijklmnop");
Deno.env.set("APP_ENV", "development");
const { guard } = await import("../../supabase/functions/_shared/guard.ts");

const opts = { batch: 20, rounds: 30, warmup: 50 };
const calls = opts.batch * opts.rounds + opts.warmup;
const now = Math.floor(Date.now() / 1000);
const url = "http://localhost/bench";

async function mint(k: (typeof keys)[number]): Promise<Request[]> {
  const out: Request[] = [];
  for (let i = 0; i <= calls; i++) {
    const token = await new SignJWT({ role: "authenticated", session_id: `s${i}` })
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: "JWT" })
      .setSubject(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .setAudience("authenticated")
      .sign(k.pair.privateKey);
    out.push(new Request(url, { headers: { authorization: `Bearer ${token}` } }));
  }
  return out;
}

const policy = { auth: ["user"], routes: [{ method: "GET", path: "/bench", limits: { exempt: true } }] };
const edge = guard(policy, () => new Response("ok"));
const cases = [];
for (const k of keys) {
  const requests = await mint(k);
  const first = await edge(requests[0]);
  if (first.status !== 200) throw new Error(`${k.kid}: status ${first.status} ${await first.text()}`);
  await first.body?.cancel();
  cases.push({
    name: `${k.alg} (${k.kid}), new token each request`,
    call: async (i: number) => {
      const res = await edge(requests[1 + i]);
      await res.body?.cancel();
    },
  });
}
const ANCHOR = cases[0].name;
const results = await measureInterleaved(cases, ANCHOR, opts);
reportInterleaved("Token algorithms in wasm: per-request cost of guard() (cases interleaved per round)", results, ANCHOR);
