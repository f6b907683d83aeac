// Per-step cost of guard()'s pipeline (profiling aid): each wasm call and shim
// step of one request timed on its own, same configuration as identity.ts (d).
// Run: deno run -A scripts/bench/guard_steps.ts
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { measure, type Result } from "./measure.ts";
import { loadWasm } from "../../supabase/functions/_shared/load_wasm.ts";
import { loadHardening } from "../../supabase/functions/_shared/load_hardening.ts";
import { authenticate } from "../../supabase/functions/_shared/authenticate.ts";
import { limitFacts, limitLocal } from "../../supabase/functions/_shared/limit_rate.ts";
import { applySecurityHeaders } from "../../supabase/functions/_shared/security_headers.ts";
import { requestIdFor } from "../../supabase/functions/_shared/request_id.ts";
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

const wasm = loadWasm();
const setup = loadHardening(policy, env);
if (!setup.ok) throw new Error(setup.reason);
const { routes, hardening: h } = setup;
const gate = new wasm.Gate(JSON.stringify(policy), JSON.stringify(env));
const edge = guard(policy, () => new Response("ok"), { env });
const route = "GET /bench";
const facts = JSON.stringify({ method: "GET", path: "/bench", query: "", headers: { authorization: `Bearer ${token}` } });
const ok = new Response("ok");

const opts = { batch: 200, rounds: 30, warmup: 500 };
const steps: [string, (i: number) => unknown][] = [
  ["guard() whole request (d)", async () => (await edge(req)).body?.cancel()],
  ["requestIdFor", () => requestIdFor(req)],
  ["new URL(req.url)", () => new URL(req.url)],
  ["Routes.find (wasm) + JSON.parse", () => JSON.parse(routes.find("GET", "/bench"))],
  ["authenticate() (cached token)", () => authenticate(gate, req)],
  ["  Gate.check (wasm, cached token)", () => gate.check(facts, Date.now())],
  ["  JSON.parse(decision)", () => JSON.parse(gate.check(facts, Date.now()))],
  ["limitLocal exempt (wasm)", () => limitLocal(h, route, limitFacts(req))],
  ["checkParams (wasm)", () => JSON.parse(h.checkParams(route, "{}", ""))],
  ["bodyLimit (wasm)", () => h.bodyLimit(route)],
  ["csrfCheck (wasm)", () => JSON.parse(h.csrfCheck(route, JSON.stringify({ method: "GET", has_bearer: true }), Date.now()))],
  ["responseHeaders (wasm, unmemoised)", () => JSON.parse(h.responseHeaders(null))],
  ["applySecurityHeaders", () => applySecurityHeaders(ok, h, req, "rid", [])],
  ["new Response(body, response)", () => new Response(ok.body, ok)],
];
const results: Result[] = [];
for (const [name, f] of steps) results.push(await measure(name, f, opts));
console.log("| step | median µs | p10–p90 µs |\n| --- | ---: | ---: |");
for (const r of results) console.log(`| ${r.name} | ${r.medianUs.toFixed(2)} | ${r.p10Us.toFixed(2)}–${r.p90Us.toFixed(2)} |`);
