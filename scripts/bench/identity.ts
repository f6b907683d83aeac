// Identity benchmark: one Deno process, per-request medians of
//   (a) a bare handler; (a2) the same plus only the security headers guard adds
//   (b) @supabase/server withSupabase({auth:'user'}), inline ES256 JWKS (anchor)
//   (c) edgeguard guard(), same config, a new token every request
//   (d) edgeguard guard(), the same token repeated (verified-token cache)
//   (e) edgeguard guard(), HS256, a new token every request
// Run: npm run bench (or: deno run -A scripts/bench/identity.ts)
import { identityTokens } from "./identity_tokens.ts";
import { measureInterleaved, reportInterleaved } from "./measure.ts";

const { mint } = await identityTokens("bench");

const { withSupabase } = await import("npm:@supabase/server@1.8.1");
const { guard } = await import("../../supabase/functions/_shared/guard.ts");
const { loadWasm } = await import("../../supabase/functions/_shared/runtime/load_wasm.ts");
const { applyHeaders } = await import("../../supabase/functions/_shared/http/apply_headers.ts");

// Calls per batch, per case: each batch lasts roughly 10–30 ms, so each case
// pays its own garbage collection. Every "new token" call uses a token no
// other call uses.
const opts = { batch: 20, rounds: 40, warmup: 200 };
const BATCH = { anchor: 20, es256: 100, repeated: 1000, hs256: 400, bare: 1000 };
const calls = (batch: number) => batch * opts.rounds + opts.warmup;

const es256 = await mint(calls(BATCH.anchor) + calls(BATCH.es256), "ES256");
const hs256 = await mint(calls(BATCH.hs256), "HS256");
const url = "http://localhost/bench";
const request = (token: string) => new Request(url, { headers: { authorization: `Bearer ${token}` } });
// Requests are built before timing, so every case measures only its handler.
const es256Requests = es256.map(request);
const hs256Requests = hs256.map(request);
// (d): one token, but a distinct Request per call, like real traffic.
const repeatedRequests = Array.from({ length: calls(BATCH.repeated) }, () => request(es256[1]));
const repeated = repeatedRequests[0];

const bare = (_req: Request) => Promise.resolve(new Response("ok"));
const anchor = withSupabase({ auth: "user" }, (_req: Request) => Promise.resolve(new Response("ok")));
const policy = { auth: ["user"], routes: [{ method: "GET", path: "/bench", limits: { exempt: true } }] };
const edge = guard(policy, () => new Response("ok"));
// (a2): the floor under every guarded request: a bare handler whose Response
// gets only the security headers every guarded response carries (same code
// path as guard's last step, the core's header set for no Origin), no checks at all.
const plan = new (loadWasm().Guard)(JSON.stringify(policy), JSON.stringify(Deno.env.toObject()), false)
  .begin(new Request(url), undefined, Date.now()).response;
const headersOnly = (_req: Request) => applyHeaders(new Response("ok"), plan, [], "bench-request-id");

async function expectOk(res: Response, label: string) {
  if (res.status !== 200) throw new Error(`${label}: status ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}
await expectOk(await anchor(request(es256[0])), "anchor");
await expectOk(await edge(request(es256[0])), "edgeguard ES256");
await expectOk(await edge(request(hs256[0])), "edgeguard HS256");

const ANCHOR = "(b) @supabase/server withSupabase user, ES256";
/** A case that sends `requests[offset + i]` through `handler` and drains the response. */
function through(handler: (req: Request) => Promise<Response>, requests: Request[], offset = 0) {
  return async (i: number) => {
    const res = await handler(requests[offset + i]);
    await res.body?.cancel();
  };
}
// Every new token is used once: (b) and (c) draw from disjoint ranges of the ES256 tokens.
const results = await measureInterleaved([
  { name: "(a) bare handler", batch: BATCH.bare, call: () => bare(repeated) },
  { name: "(a2) bare handler + the security headers only", batch: BATCH.bare, call: (i) => headersOnly(repeatedRequests[i % repeatedRequests.length]) },
  { name: ANCHOR, batch: BATCH.anchor, call: through(anchor, es256Requests) },
  { name: "(c) edgeguard, ES256, new token each request", batch: BATCH.es256, call: through(edge, es256Requests, calls(BATCH.anchor)) },
  { name: "(d) edgeguard, ES256, repeated token", batch: BATCH.repeated, call: through(edge, repeatedRequests) },
  { name: "(e) edgeguard, HS256, new token each request", batch: BATCH.hs256, call: through(edge, hs256Requests) },
], ANCHOR, opts);

reportInterleaved("Identity: per-request cost in one Deno process (cases interleaved per round)", results, ANCHOR);

// Reference lines, each in a fresh process: native Rust (the limit wasm is
// measured against) and the wasm cold start.
async function run(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
const native = await run("cargo", ["run", "--quiet", "--release", "-p", "edgeguard-core", "--example", "verify_bench"]);
console.log("### Native Rust reference (same core, no wasm, no Deno)\n");
if (native) {
  console.log("| step | ns/op |\n| --- | ---: |");
  for (const m of native.matchAll(/^(.+): (\d+) ns\/op$/gm)) console.log(`| ${m[1]} | ${m[2]} |`);
} else {
  console.log("cargo not available: run `cargo run --release -p edgeguard-core --example verify_bench`");
}
const cold = await run(Deno.execPath(), ["run", "-A", new URL("./wasm_cold.ts", import.meta.url).pathname]);
if (cold) {
  const c = JSON.parse(cold.trim().split("\n").pop()!);
  console.log("\n### Wasm cold start (fresh process)\n");
  console.log("| wasm bytes | import ms | loadWasm() ms | first Gate ms | first ES256 check ms |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  const f = (x: number) => x.toFixed(1);
  console.log(`| ${c.wasm_bytes} | ${f(c.import_ms)} | ${f(c.load_wasm_ms)} | ${f(c.first_gate_ms)} | ${f(c.first_es256_check_ms)} |`);
}
