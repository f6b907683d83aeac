// Over HTTP through the local stack (scripts/serve.ts): a bare function, an
// edgeguard function and an @supabase/server function (scripts/bench/http_functions/)
// served side by side by one server, none verified by the gateway, so every
// request pays the same gateway cost and the differences are the guards'.
//
//   1. steady state: requests one after another on a kept-alive connection,
//      cases interleaved per round (./measure.ts); the cost each guard adds
//      over the bare function, over HTTP and in-process (the same modules
//      imported into this process), and where the HTTP path's extra cost
//      goes: response header bytes (a bare function sending edgeguard's
//      headers), the server's per-request log line (a second server with
//      EDGEGUARD_QUIET unset, logging to a file as `npm run dev` does)
//   2. fresh servers: one serve.ts process per sample serving only one of
//      the functions, timed from spawn to the first response (new ES256
//      token); the bare function's time is Deno's boot, the server and the
//      gateway, so the difference is what the guard adds to a cold start
// Run: deno run -A scripts/bench/http.ts [--rounds 30] [--fresh 5]
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { type Case, measureInterleaved } from "./measure.ts";

const args = Deno.args;
const argValue = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = argValue("--rounds", 30);
const FRESH = argValue("--fresh", 5);
const WARMUP = 300;
const BATCH = { fast: 100, es256: 40, anchor: 10 };

const root = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
const functionsDir = `${root}/scripts/bench/http_functions`;
const FUNCTIONS = ["bench-bare", "bench-bare-headers", "bench-bare-async", "bench-bare-reads", "bench-edgeguard", "bench-anchor"];

const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "bench-http", alg: "ES256", use: "sig" };
const now = Math.floor(Date.now() / 1000);
const mint = (i: number) =>
  new SignJWT({ role: "authenticated", email: `u${i}@bench.test`, aal: "aal1", session_id: `s${i}` })
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
    .setSubject(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + 3600)
    .setAudience("authenticated").sign(privateKey);
// Every "new token" call uses a token no other call uses.
const perCase = (batch: number) => batch * ROUNDS + WARMUP;
const needed = 2 * perCase(BATCH.es256) + 2 * perCase(BATCH.anchor) + (FRESH + 1) * 3 + 1;
const tokens: string[] = [];
for (let i = 0; i < needed; i++) tokens.push(await mint(i));
let nextToken = 0;
const take = (n: number) => tokens.slice(nextToken, nextToken += n);
const repeated = take(1)[0];

const env: Record<string, string> = {
  SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
  SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: "sb_publishable_bench" }),
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: "sb_secret_bench" }),
  APP_ENV: "development",
};
for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
Deno.env.set("SUPABASE_URL", "http://127.0.0.1:1");

// --- in-process: the same function modules, called directly -------------------
type Fn = { fetch: (req: Request, info?: unknown) => Response | Promise<Response> };
const load = async (name: string) => (await import(`${functionsDir}/${name}/index.ts`)).default as Fn;
const edgeguardLocal = await load("bench-edgeguard");
const peer = { remoteAddr: { hostname: "0.0.0.0", port: 9999, transport: "tcp" } };
const probe = await edgeguardLocal.fetch(
  new Request("http://localhost/bench-edgeguard", { headers: { authorization: `Bearer ${repeated}` } }),
  peer,
);
if (probe.status !== 200) throw new Error(`bench-edgeguard answered ${probe.status}: ${await probe.text()}`);
await probe.body?.cancel();
// What the bare-headers function sends: edgeguard's response headers, minus the per-request id.
const guardHeaders = [...probe.headers].filter(([n]) => n !== "x-request-id" && n !== "content-type");
// bench-bare-reads reads them at import, as serve.ts's copy does from its environment.
Deno.env.set("EDGEGUARD_BENCH_HEADERS", JSON.stringify(guardHeaders));
const local = {
  bare: await load("bench-bare"),
  bareReads: await load("bench-bare-reads"),
  edgeguard: edgeguardLocal,
  anchor: await load("bench-anchor"),
};
const headerBytes = (h: Iterable<[string, string]>) => [...h].reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

// --- servers ---------------------------------------------------------------
const state = await Deno.makeTempDir({ prefix: "edgeguard-bench-http-" });
const servers: Deno.ChildProcess[] = [];

async function freePort(): Promise<number> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function writeConfig(name: string, enabled: string[]): Promise<string> {
  const path = `${state}/${name}.toml`;
  await Deno.writeTextFile(
    path,
    FUNCTIONS.map((f) => `[functions.${f}]\nverify_jwt = false\nenabled = ${enabled.includes(f)}\n`).join("\n"),
  );
  return path;
}

/** Starts serve.ts; resolves with its base URL and the spawn time once it answers. */
async function startServer(config: string, opts: { quiet: boolean; log?: string }) {
  const port = await freePort();
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}/scripts/serve.ts`],
    env: {
      ...env,
      EDGEGUARD_STATE_DIR: state,
      EDGEGUARD_API_PORT: String(port),
      EDGEGUARD_DB_PORT: "1",
      EDGEGUARD_FUNCTIONS_DIR: functionsDir,
      EDGEGUARD_CONFIG: config,
      EDGEGUARD_PROFILE: "dev",
      EDGEGUARD_BENCH_HEADERS: JSON.stringify(guardHeaders),
      ...(opts.quiet ? { EDGEGUARD_QUIET: "1" } : {}),
    },
    stdout: "null",
    stderr: opts.log ? "piped" : "null",
  }).spawn();
  servers.push(child);
  if (opts.log) {
    const file = await Deno.open(opts.log, { write: true, create: true, truncate: true });
    child.stderr.pipeTo(file.writable).catch(() => {});
  }
  return { child, base: `http://127.0.0.1:${port}/functions/v1`, t0 };
}

/** GETs `url` until the server accepts connections; returns the first answer's arrival time. */
async function firstAnswer(url: string, token: string, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      if (res.status !== 200 || body !== "ok") throw new Error(`${url} answered ${res.status} ${body}`);
      return performance.now();
    } catch (e) {
      if (!(e instanceof TypeError) || performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x: number) => x.toFixed(1);

try {
  // --- 1. steady state ---------------------------------------------------------
  const all = await writeConfig("all", FUNCTIONS);
  const quiet = await startServer(all, { quiet: true });
  const logging = await startServer(all, { quiet: false, log: `${state}/serve.log` });
  for (const s of [quiet, logging]) await firstAnswer(`${s.base}/bench-bare`, repeated);

  const get = (base: string, fn: string, list: string[] | null) => async (i: number) => {
    const res = await fetch(`${base}/${fn}`, { headers: { authorization: `Bearer ${list ? list[i] : repeated}` } });
    const body = await res.text();
    if (res.status !== 200 || body !== "ok") throw new Error(`${fn} answered ${res.status} ${body}`);
  };
  const call = (fn: Fn, path: string, list: string[] | null) => async (i: number) => {
    const req = new Request(`http://localhost/${path}`, { headers: { authorization: `Bearer ${list ? list[i] : repeated}` } });
    const res = await fn.fetch(req, peer);
    await res.text();
  };
  const esHttp = take(perCase(BATCH.es256)), esLocal = take(perCase(BATCH.es256));
  const anHttp = take(perCase(BATCH.anchor)), anLocal = take(perCase(BATCH.anchor));
  const cases: Case[] = [
    { name: "http: bare", batch: BATCH.fast, call: get(quiet.base, "bench-bare", null) },
    { name: "http: bare + edgeguard's response headers", batch: BATCH.fast, call: get(quiet.base, "bench-bare-headers", null) },
    { name: "http: bare, async handler", batch: BATCH.fast, call: get(quiet.base, "bench-bare-async", null) },
    { name: "http: bare + guard()'s request reads and header sets", batch: BATCH.fast, call: get(quiet.base, "bench-bare-reads", null) },
    { name: "http: edgeguard, repeated token", batch: BATCH.fast, call: get(quiet.base, "bench-edgeguard", null) },
    { name: "http: edgeguard, new token", batch: BATCH.es256, call: get(quiet.base, "bench-edgeguard", esHttp) },
    { name: "http: @supabase/server, new token", batch: BATCH.anchor, call: get(quiet.base, "bench-anchor", anHttp) },
    { name: "http, server logging each request: bare", batch: BATCH.fast, call: get(logging.base, "bench-bare", null) },
    { name: "http, server logging each request: edgeguard, repeated token", batch: BATCH.fast, call: get(logging.base, "bench-edgeguard", null) },
    { name: "in-process: bare", batch: BATCH.fast * 10, call: call(local.bare, "bench-bare", null) },
    { name: "in-process: bare + guard()'s request reads and header sets", batch: BATCH.fast, call: call(local.bareReads, "bench-bare-reads", null) },
    { name: "in-process: edgeguard, repeated token", batch: BATCH.fast, call: call(local.edgeguard, "bench-edgeguard", null) },
    { name: "in-process: edgeguard, new token", batch: BATCH.es256, call: call(local.edgeguard, "bench-edgeguard", esLocal) },
    { name: "in-process: @supabase/server, new token", batch: BATCH.anchor, call: call(local.anchor, "bench-anchor", anLocal) },
  ];
  const results = await measureInterleaved(cases, "http: @supabase/server, new token", { rounds: ROUNDS, warmup: WARMUP });
  const by = new Map(results.map((r) => [r.name, r]));
  const us = (name: string) => by.get(name)!.medianUs;
  const floor = (name: string) =>
    name.startsWith("in-process") ? us("in-process: bare")
    : name.startsWith("http, server logging") ? us("http, server logging each request: bare")
    : us("http: bare");

  console.log(`### Over HTTP (local stack, scripts/serve.ts) and in-process: ${ROUNDS} interleaved rounds\n`);
  console.log("| case | median µs/request | p10–p90 µs | added over the bare function, same transport µs |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of results) {
    const added = r.name.endsWith(": bare") ? "—" : f1(r.medianUs - floor(r.name));
    console.log(`| ${r.name} | ${f1(r.medianUs)} | ${f1(r.p10Us)}–${f1(r.p90Us)} | ${added} |`);
  }
  const anchorAdded = (t: string) => us(`${t}: @supabase/server, new token`) - us(`${t}: bare`);
  const edgeAdded = (t: string) => us(`${t}: edgeguard, new token`) - us(`${t}: bare`);
  console.log(
    `\nCost added over the bare function, new ES256 token each request: edgeguard ${f1(edgeAdded("http"))} µs vs ` +
      `@supabase/server ${f1(anchorAdded("http"))} µs over HTTP (${(anchorAdded("http") / edgeAdded("http")).toFixed(1)}× less); ` +
      `in-process ${f1(edgeAdded("in-process"))} vs ${f1(anchorAdded("in-process"))} µs.`,
  );
  console.log(
    `Repeated token: edgeguard adds ${f1(us("http: edgeguard, repeated token") - us("http: bare"))} µs over HTTP, ` +
      `${f1(us("in-process: edgeguard, repeated token") - us("in-process: bare"))} µs in-process; ` +
      `edgeguard's response headers alone (${guardHeaders.length} headers, ${headerBytes(guardHeaders)} bytes more than the bare ` +
      `function's) add ${f1(us("http: bare + edgeguard's response headers") - us("http: bare"))} µs over HTTP; ` +
      `the server's per-request log line costs ${f1(us("http, server logging each request: bare") - us("http: bare"))} µs.`,
  );
  const reads = "bare + guard()'s request reads and header sets";
  const split = (t: string) => [us(`${t}: ${reads}`) - us(`${t}: bare`), us(`${t}: edgeguard, repeated token`) - us(`${t}: ${reads}`)];
  const [httpJs, httpGuard] = split("http"), [localJs, localGuard] = split("in-process");
  console.log(
    `Where the repeated token's cost goes: the JavaScript around the wasm (request reads, header sets, an async ` +
      `handler) ${f1(httpJs)} µs over HTTP vs ${f1(localJs)} µs in-process (the async handler alone ` +
      `${f1(us("http: bare, async handler") - us("http: bare"))} µs over HTTP); the rest of the guard ` +
      `${f1(httpGuard)} µs over HTTP vs ${f1(localGuard)} µs in-process.`,
  );
  for (const s of [quiet, logging]) {
    s.child.kill();
    await s.child.status;
  }
  servers.length = 0;

  // --- 2. fresh servers ----------------------------------------------------------
  if (FRESH > 0) {
    const fresh: Record<string, number[]> = {};
    const configs = Object.fromEntries(
      await Promise.all(["bench-bare", "bench-edgeguard", "bench-anchor"].map(async (f) => [f, await writeConfig(f, [f])])),
    );
    const order = Object.keys(configs);
    // Round -1 is not counted: it warms Deno's module caches for each function.
    for (let r = -1; r < FRESH; r++) {
      for (const fn of r % 2 ? [...order].reverse() : order) {
        const s = await startServer(configs[fn], { quiet: true });
        const done = await firstAnswer(`${s.base}/${fn}`, take(1)[0]);
        if (r >= 0) (fresh[fn] ??= []).push(done - s.t0);
        s.child.kill();
        await s.child.status;
        servers.splice(servers.indexOf(s.child), 1);
      }
    }
    const m = (fn: string) => median(fresh[fn]);
    console.log(`\n### Fresh server over HTTP: spawn of scripts/serve.ts serving one function → first response (new ES256 token), ${FRESH} processes each\n`);
    console.log("| function | median ms | added over bare ms |");
    console.log("| --- | ---: | ---: |");
    for (const fn of order) {
      console.log(`| ${fn} | ${f1(m(fn))} | ${fn === "bench-bare" ? "—" : f1(m(fn) - m("bench-bare"))} |`);
    }
    console.log(
      `\nA cold start over HTTP: edgeguard adds ${f1(m("bench-edgeguard") - m("bench-bare"))} ms, @supabase/server ` +
        `${f1(m("bench-anchor") - m("bench-bare"))} ms (edgeguard: ${((m("bench-edgeguard") - m("bench-bare")) / (m("bench-anchor") - m("bench-bare"))).toFixed(2)}× the anchor's).`,
    );
  }
} finally {
  for (const c of servers) {
    try {
      c.kill();
      await c.status;
    } catch {
      // already gone
    }
  }
  await Deno.remove(state, { recursive: true }).catch(() => {});
}
