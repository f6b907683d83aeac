// The local function server: what `supabase functions serve` and the hosted
// gateway do, without Docker.
//
//   deno run -A scripts/serve.ts
//
// Serves http://127.0.0.1:$EDGEGUARD_API_PORT/functions/v1/<name>[/...] by
// calling the `default.fetch(req)` of supabase/functions/<name>/index.ts with
// the URL path rewritten to /<name>[/...] (what a function sees when hosted).
// Every directory under supabase/functions/ not starting with `_` or `.` that
// holds an index.ts is a function. `verify_jwt` from supabase/config.toml is
// honoured like the platform gateway (default true). The dev JWKS is served at
// /auth/v1/.well-known/jwks.json.
//
// Environment given to functions, later wins: the platform profile's values
// (EDGEGUARD_PROFILE: dev, start-legacy, start-signing-keys, hosted; see
// scripts/lib/platform_profile.ts and docs/platform.md), then
// supabase/functions/.env (names starting with SUPABASE_ are reserved and
// skipped, as on the platform), then this process's environment. Under the
// `start-*` profiles the gateway rewrites `Authorization` as the local Kong
// does; like edge-runtime, `info.remoteAddr` is 0.0.0.0.
//
// Settings: EDGEGUARD_STATE_DIR (.local), EDGEGUARD_API_PORT (54321),
// EDGEGUARD_DB_PORT (54322), EDGEGUARD_CONFIG (supabase/config.toml),
// EDGEGUARD_FUNCTIONS_DIR (supabase/functions), EDGEGUARD_PROFILE (dev),
// EDGEGUARD_EXTRA_FUNCTIONS_DIRS (colon-separated folders of test-only
// functions, e.g. tests/fixtures/functions; verify_jwt false unless config says).
import * as jose from "npm:jose@6.2.17";
import { type DevKeys, ensureDevKeys } from "./dev_keys.ts";
import { gatewayAlgorithms, gatewayAuthorization, legacyKeyJwt, profileEnv, profileName } from "./lib/platform_profile.ts";
import { parseDotEnv } from "./lib/parse_dot_env.ts";
import { type FunctionConfig, readFunctionsConfig } from "./lib/read_functions_config.ts";
import { scheduleRetention } from "./lib/schedule_retention.ts";
import { scheduleAlerts } from "./lib/schedule_alerts.ts";

type FetchHandler = (req: Request, info?: unknown) => Response | Promise<Response>;

/** What edge-runtime passes as the second argument: a fixed, meaningless peer (docs/platform.md). */
const EDGE_RUNTIME_INFO = { remoteAddr: { hostname: "0.0.0.0", port: 9999, transport: "tcp" } };

interface LoadedFunction {
  name: string;
  verifyJwt: boolean;
  fetch?: FetchHandler;
  /** Why the module could not be used; the function answers 500 MISCONFIGURED. */
  failure?: string;
}

const root = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const env = (name: string, fallback: string) => Deno.env.get(name) || fallback;
const stateDir = env("EDGEGUARD_STATE_DIR", `${root}/.local`);
const apiPort = Number(env("EDGEGUARD_API_PORT", "54321"));
const dbPort = Number(env("EDGEGUARD_DB_PORT", "54322"));
const configPath = env("EDGEGUARD_CONFIG", `${root}/supabase/config.toml`);
const functionsDir = env("EDGEGUARD_FUNCTIONS_DIR", `${root}/supabase/functions`);
const apiUrl = `http://127.0.0.1:${apiPort}`;

function logLine(message: string) {
  console.error(`serve: ${message}`);
}

// The line per request, written off the request's path: lines are collected
// and written together once the current requests are answered (a synchronous
// write per request cost more than a guarded request itself: scripts/bench/http.ts).
let accessLines: string[] = [];
function accessLog(message: string) {
  if (accessLines.length === 0) setTimeout(flushAccessLog, 0);
  accessLines.push(`serve: ${message}\n`);
}
function flushAccessLog() {
  let bytes = new TextEncoder().encode(accessLines.join(""));
  accessLines = [];
  try {
    while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
  } catch {
    // stderr closed: nothing to log to
  }
}

// --- environment -------------------------------------------------------------

const profile = profileName(Deno.env.get("EDGEGUARD_PROFILE"));

async function functionEnv(keys: DevKeys): Promise<Record<string, string>> {
  const generated = await profileEnv(profile, keys, {
    apiUrl,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
  });
  let dotEnv: Record<string, string> = {};
  try {
    dotEnv = parseDotEnv(await Deno.readTextFile(`${functionsDir}/.env`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const name of Object.keys(dotEnv)) {
    if (name.startsWith("SUPABASE_")) {
      logLine(`supabase/functions/.env: ${name} skipped (names starting with SUPABASE_ are reserved)`);
      delete dotEnv[name];
    }
  }
  return { ...generated, ...dotEnv, ...Deno.env.toObject() };
}

// --- responses ---------------------------------------------------------------

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "referrer-policy": "no-referrer",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cache-control": "no-store",
};

function errorResponse(status: number, code: string, message: string, extra: Record<string, string> = {}) {
  const requestId = crypto.randomUUID();
  return new Response(JSON.stringify({ code, message, request_id: requestId }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-request-id": requestId,
      ...SECURITY_HEADERS,
      ...extra,
    },
  });
}

// --- the emulated platform gateway (verify_jwt) ------------------------------

type GatewayVerdict = { ok: true } | { ok: false; code: "MISSING_CREDENTIALS" | "INVALID_JWT"; message: string };

function makeGateway(keys: DevKeys, jwtSecret: string | undefined) {
  const jwks = jose.createLocalJWKSet(keys.jwks);
  const secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined;
  const algorithms = gatewayAlgorithms(profile);
  return async function verify(headers: Headers): Promise<GatewayVerdict> {
    const header = headers.get("authorization")?.trim();
    if (!header) return { ok: false, code: "MISSING_CREDENTIALS", message: "Missing authorization header" };
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return { ok: false, code: "INVALID_JWT", message: "Authorization header is not a Bearer token" };
    try {
      const { alg } = jose.decodeProtectedHeader(m[1]);
      if (!alg || !algorithms.includes(alg)) throw new Error("algorithm not accepted by this gateway");
      if (alg === "HS256") {
        if (!secret) throw new Error("no JWT secret");
        await jose.jwtVerify(m[1], secret, { algorithms: ["HS256"], clockTolerance: 30 });
      } else {
        await jose.jwtVerify(m[1], jwks, { algorithms: ["ES256", "RS256", "EdDSA"], clockTolerance: 30 });
      }
      return { ok: true };
    } catch {
      return { ok: false, code: "INVALID_JWT", message: "Invalid JWT" };
    }
  };
}

// --- functions -----------------------------------------------------------------

const extraDirs = (Deno.env.get("EDGEGUARD_EXTRA_FUNCTIONS_DIRS") ?? "").split(":").filter((d) => d !== "");

/** Function names and their folders: supabase/functions first, then the extra (test-only) folders. */
async function discover(): Promise<Map<string, { dir: string; extra: boolean }>> {
  const found = new Map<string, { dir: string; extra: boolean }>();
  for (const [dir, extra] of [[functionsDir, false], ...extraDirs.map((d) => [d, true])] as [string, boolean][]) {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".") || found.has(entry.name)) continue;
      try {
        if ((await Deno.stat(`${dir}/${entry.name}/index.ts`)).isFile) found.set(entry.name, { dir, extra });
      } catch {
        // not a function directory
      }
    }
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}

async function load(name: string, dir: string, verifyJwt: boolean): Promise<LoadedFunction> {
  const fileUrl = new URL("file:///");
  fileUrl.pathname = `${dir}/${name}/index.ts`; // percent-encodes spaces, '#', '?'
  const url = fileUrl.href;
  try {
    const mod = await import(url);
    const fetch = mod?.default?.fetch;
    if (typeof fetch !== "function") {
      return { name, verifyJwt, failure: "index.ts has no `export default { fetch }`" };
    }
    return { name, verifyJwt, fetch: fetch.bind(mod.default) };
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return { name, verifyJwt, failure: `failed to load: ${reason}` };
  }
}

async function main() {
  const keys = await ensureDevKeys(stateDir);
  const vars = await functionEnv(keys);
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  // what pg_cron does on hosted Supabase (docs/database.md, "Retention")
  scheduleRetention(vars.SUPABASE_DB_URL, logLine);
  // what pg_cron + pg_net do on hosted Supabase (docs/alerts.md)
  scheduleAlerts(apiUrl, vars, logLine);

  let config = new Map<string, FunctionConfig>();
  try {
    config = readFunctionsConfig(await Deno.readTextFile(configPath));
  } catch (e) {
    logLine(`cannot read ${configPath} (${e instanceof Error ? e.message : e}); verify_jwt defaults to true`);
  }

  // Like `functions serve` and deploy: a function with `enabled = false` is not served.
  const found = new Map([...await discover()].filter(([n]) => config.get(n)?.enabled !== false));
  const names = [...found.keys()];
  const functions = new Map<string, LoadedFunction>();
  const loads = [...found].map(([n, { dir, extra }]) => load(n, dir, config.get(n)?.verifyJwt ?? !extra));
  for (const fn of await Promise.all(loads)) {
    functions.set(fn.name, fn);
    if (fn.failure) logLine(`function "${fn.name}" ${fn.failure}; it answers 500 MISCONFIGURED`);
  }
  // The platform's gateway knows the project's JWT secret even where functions do not get it.
  const gateway = makeGateway(keys, keys.env.JWT_SECRET);
  const legacy = {
    anon: await legacyKeyJwt(profile, keys, "anon"),
    service_role: await legacyKeyJwt(profile, keys, "service_role"),
  };
  const jwksBody = JSON.stringify(keys.jwks);

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/auth/v1/.well-known/jwks.json") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return errorResponse(405, "METHOD_NOT_ALLOWED", "Use GET", { allow: "GET, HEAD" });
      }
      return new Response(req.method === "HEAD" ? null : jwksBody, {
        headers: { "content-type": "application/json", "cache-control": "public, max-age=600" },
      });
    }
    const m = /^\/functions\/v1\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const fn = m ? functions.get(decodeURIComponent(m[1])) : undefined;
    if (!m || !fn) return errorResponse(404, "NOT_FOUND", "No such function");
    const headers = new Headers(req.headers);
    const authorization = gatewayAuthorization(profile, headers, keys, legacy);
    if (authorization === null) headers.delete("authorization");
    else headers.set("authorization", authorization);
    if (fn.verifyJwt && req.method !== "OPTIONS") {
      const verdict = await gateway(headers);
      if (!verdict.ok) {
        return errorResponse(401, verdict.code, verdict.message, { "x-edgeguard-gateway": "rejected" });
      }
    }
    if (fn.failure || !fn.fetch) {
      return errorResponse(500, "MISCONFIGURED", "The function is misconfigured");
    }
    const target = new URL(req.url);
    target.pathname = `/${m[1]}${m[2] ?? ""}`;
    // Not `new Request(target, req)`: copying req.signal opts into Deno's
    // legacy abort-on-response behaviour (and a warning per process).
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const inner = new Request(target, {
      method: req.method,
      headers,
      body: hasBody ? req.body : undefined,
      redirect: "manual",
    });
    try {
      const res = await fn.fetch(inner, EDGE_RUNTIME_INFO);
      if (!(res instanceof Response)) throw new TypeError("fetch did not return a Response");
      return res;
    } catch (e) {
      logLine(`function "${fn.name}" threw ${e instanceof Error ? e.name : typeof e}`);
      return errorResponse(500, "INTERNAL", "Internal error");
    }
  }

  // EDGEGUARD_QUIET=1: no line per request (read once: not an environment lookup per request).
  const quiet = Deno.env.get("EDGEGUARD_QUIET") === "1";
  try {
    Deno.serve({
      hostname: "127.0.0.1",
      port: apiPort,
      onListen: () => {
        logLine(`listening on ${apiUrl} (profile ${profile}; functions: ${names.join(", ") || "none"})`);
      },
    }, quiet ? handle : async (req) => {
      const started = performance.now();
      const res = await handle(req);
      const ms = (performance.now() - started).toFixed(1);
      accessLog(`${req.method} ${new URL(req.url).pathname} ${res.status} ${ms}ms`);
      return res;
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(`error: port ${apiPort} is already in use by another process (set EDGEGUARD_API_PORT or stop it)`);
      Deno.exit(1);
    }
    throw e;
  }
}

if (import.meta.main) await main();
