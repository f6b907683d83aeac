// Guard overhead benchmark, one Deno process, per-request medians:
//   (a) a bare handler (anchor)
//   (b) guard(): route, request id, security + CORS headers; limits exempt
//   (c) guard(): the same plus in-isolate limits (stacked 60/min + 1000/h per
//       IP, GCRA in wasm), RateLimit headers, a new client IP per request
//   (d) guard(): (c) plus a 200-byte JSON body streamed, parsed and checked
//       against a schema in wasm
// No credentials (auth none), so only the request checks are measured; the
// Postgres limiter has its own benchmark (scripts/bench/limiter.ts).
// Run: deno run -A scripts/bench/guard_overhead.ts
import { measureInterleaved } from "./measure.ts";
import { guard } from "../../supabase/functions/_shared/guard.ts";

// An inline JWKS must hold a usable key (the core refuses an empty one); no
// request here carries a token, so the key is never used.
const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const jwk = { ...(await crypto.subtle.exportKey("jwk", publicKey)), kid: "bench", alg: "ES256", use: "sig" };
delete (jwk as { key_ops?: unknown }).key_ops;
delete (jwk as { ext?: unknown }).ext;

const env = {
  APP_ENV: "production",
  CORS_ORIGINS: "https://app.example.com",
  CSRF_SECRET: "bench-csrf-secret-0123456789abcdef0123456789",
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }), // inline: no JWKS fetch
};
const limits = {
  classes: {
    standard: [
      { name: "ip-min", by: ["ip"], limit: 60, window_s: 60 },
      { name: "ip-hour", by: ["ip"], limit: 1000, window_s: 3600 },
    ],
  },
  max_keys: 100000,
};
const schema = {
  type: "object",
  required: ["name", "email"],
  additionalProperties: false,
  properties: {
    name: { type: "string", maxLength: 64 },
    email: { type: "string", format: "email" },
    tags: { type: "array", maxItems: 8, items: { type: "string", maxLength: 32 } },
    note: { type: "string", maxLength: 200 },
  },
};
const ok = () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
const headersOnly = guard({ auth: ["none"], routes: [{ method: "GET", path: "/b", limits: { exempt: true } }] }, ok, { env });
const withLimits = guard({ auth: ["none"], limits, routes: [{ method: "GET", path: "/b" }] }, ok, { env });
const withBody = guard({ auth: ["none"], limits, routes: [{ method: "POST", path: "/b", body: { schema } }] }, ok, { env });

// Cases interleaved round by round (see measure.ts); batches of ~10–20 ms each.
const opts = { batch: 400, rounds: 40, warmup: 1000 };
const n = opts.batch * opts.rounds + opts.warmup;
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const origin = "https://app.example.com";
const gets = Array.from({ length: n }, (_, i) =>
  new Request("http://fn.local/b", { headers: { "x-forwarded-for": ip(i), origin } }));
const body = JSON.stringify({ name: "Ada Lovelace", email: "ada@example.com", tags: ["math", "engines"], note: "x".repeat(90) });
const posts = Array.from({ length: n }, (_, i) =>
  new Request("http://fn.local/b", {
    method: "POST",
    body,
    headers: { "x-forwarded-for": ip(i), origin, "content-type": "application/json" },
  }));

for (const [name, f, req] of [["headers", headersOnly, gets[0]], ["limits", withLimits, gets[1]], ["body", withBody, posts[0]]] as const) {
  const res = await f(req.clone());
  if (res.status !== 200 || !res.headers.has("x-content-type-options")) throw new Error(`${name}: ${res.status} ${await res.text()}`);
}

const bare = (_req: Request) => Promise.resolve(ok());
const drain = async (p: Promise<Response>) => (await p).body?.cancel();
const BARE = "(a) bare handler";
const results = await measureInterleaved([
  { name: BARE, batch: 2000, call: (i) => drain(bare(gets[i % n])) },
  { name: "(b) guard: headers + CORS, limits exempt", call: (i) => drain(headersOnly(gets[i])) },
  { name: "(c) guard: headers + CORS + in-isolate limits", call: (i) => drain(withLimits(gets[i])) },
  // A POST body can be read once: every call has its own Request.
  { name: "(d) guard: (c) + JSON body schema check", call: (i) => drain(withBody(posts[i])) },
], BARE, opts);
const base = results[0].medianUs;
console.log("### Guard overhead: per-request cost in one Deno process (cases interleaved per round)\n");
console.log("| case | median µs/request | p10–p90 µs | overhead vs bare µs |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of results) {
  const over = r === results[0] ? "anchor" : (r.medianUs - base).toFixed(1);
  console.log(`| ${r.name} | ${r.medianUs.toFixed(1)} | ${r.p10Us.toFixed(1)}–${r.p90Us.toFixed(1)} | ${over} |`);
}
