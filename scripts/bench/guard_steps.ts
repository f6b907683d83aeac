// Per-step cost of guard()'s pipeline (profiling aid): the wasm crossing and the
// shim steps of one request timed on their own, same configuration as identity.ts (d).
// Run: deno run -A scripts/bench/guard_steps.ts
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { measure, type Result } from "./measure.ts";
import { loadWasm } from "../../supabase/functions/_shared/runtime/load_wasm.ts";
import { applyHeaders } from "../../supabase/functions/_shared/http/apply_headers.ts";
import { guard } from "../../supabase/functions/_shared/guard.ts";

const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "bench-es256", alg: "ES256", use: "sig" };
const env: Record<string, string> = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
  JWT_SECRET: "bench-hs256-secret-0123456789-abcdefghijklmnop",
  APP_ENV: "development",
};
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ role: "authenticated", email: "u@bench.test", aal: "aal1", session_id: "s" })
  .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" }).setSubject(crypto.randomUUID())
  .setIssuedAt(now).setExpirationTime(now + 3600).setAudience("authenticated").sign(privateKey);
const policy = { auth: ["user"], routes: [{ method: "GET", path: "/bench", limits: { exempt: true } }] };
const req = new Request("http://localhost/bench", { headers: { authorization: `Bearer ${token}` } });

const core = new (loadWasm().Guard)(JSON.stringify(policy), JSON.stringify(env), false);
const edge = guard(policy, () => new Response("ok"), { env });
const plan = core.begin(req, undefined, Date.now()).response;
const ok = new Response("ok");

const opts = { batch: 200, rounds: 30, warmup: 500 };
const steps: [string, (i: number) => unknown][] = [
  ["guard() whole request (d)", async () => (await edge(req)).body?.cancel()],
  ["Guard.begin (the one wasm crossing: headers, route, cached token, limits, params, body, CSRF)", () =>
    core.begin(req, undefined, Date.now())],
  ["req.headers.get x7 (what begin reads for this policy)", () => {
    for (const n of ["authorization", "apikey", "x-api-key", "origin", "x-request-id", "content-type", "x-forwarded-for"]) {
      req.headers.get(n);
    }
  }],
  ["applyHeaders", () => applyHeaders(ok, plan, [], "rid")],
  ["new Response(body, response)", () => new Response(ok.body, ok)],
];
const results: Result[] = [];
for (const [name, f] of steps) results.push(await measure(name, f, opts));
console.log("| step | median µs | p10–p90 µs |\n| --- | ---: | ---: |");
for (const r of results) console.log(`| ${r.name} | ${r.medianUs.toFixed(2)} | ${r.p10Us.toFixed(2)}–${r.p90Us.toFixed(2)} |`);
