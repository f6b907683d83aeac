// guard(policy, handler): the one entry point every function uses.
//
// The wasm core makes every decision (route, credentials, roles, limits,
// CORS, CSRF, body rules); this file only sequences the steps and turns
// decisions into Responses. Per request:
//
//   1. request id: a well-formed incoming `x-request-id` is kept, else a UUID
//   2. CORS preflight: answered here (204 or 403), the handler never runs
//   3. route: matched by the core (404 / 405)
//   4. authenticate: credentials, roles, permissions and the tenant (the
//      identity Gate); the body is not read yet. A route whose tenant is a
//      body field gets an allow with that one comparison pending
//      (`tenant_check: "body"`)
//   5. in-isolate rate limit (GCRA in wasm): once per request, keyed by what
//      is known: IP always; user, API key, tenant and role once verified. A
//      request whose credentials fail is still counted by IP (brute force
//      answers 429 before the 401 would)
//   6. global rate limits (Postgres, exact across isolates) for `global` rules
//   7. path and query parameters, then the body: streamed with a byte
//      counter (413 past the route's limit without reading the rest), then
//      media type, JSON and schema checks; the parsed value is `ctx.body`
//      (with `deferBodyChecks`, only when the handler has verified the
//      signature and calls `ctx.checkBody()`)
//   8. the body's tenant, when step 4 left it pending: the core compares the
//      checked body's tenant field with the identity's (403 TENANT_MISMATCH)
//   9. CSRF for routes that require it (cookie / form callers)
//  10. the handler
// Every response, errors included, gets the security headers, CORS headers
// for an allowed Origin, the RateLimit headers and `x-request-id`.
//
// Misconfiguration (bad policy, missing or short secret, `*` CORS in
// production): the state is built once per isolate, when the function module
// loads. Outside production every request then answers 500 MISCONFIGURED and
// one log line says why. With APP_ENV=production guard() throws at module
// load, so the function refuses to start: the isolate never boots (the
// platform answers its boot error; the local stack 500 MISCONFIGURED) and no
// request reaches an unprotected handler.
import { loadWasm } from "./load_wasm.ts";
import { isProduction } from "./app_env.ts";
import { authenticate, checkBodyTenant, type Identity } from "./authenticate.ts";
import { GuardError, respondError } from "./respond_error.ts";
import { requestIdFor } from "./request_id.ts";
import { log } from "./log.ts";
import { DatabaseMisconfigured, DatabaseUnavailable, toDatabaseError } from "./db.ts";
import { fallbackHardening, loadHardening } from "./load_hardening.ts";
import { answerPreflight, isPreflight } from "./apply_cors.ts";
import { applySecurityHeaders } from "./security_headers.ts";
import { type Caller, limitFacts, limitRoute, type LimitVerdict } from "./limit_rate.ts";
import { errorCode, limitGlobal, postgresChecks } from "./limit_global.ts";
import { readBody } from "./read_body.ts";
import { checkCsrf, csrfCookie, csrfSubject, issueCsrfToken } from "./check_csrf.ts";
import { connectLimiterPostgres } from "./connect_postgres.ts";
import { recordAuthDeniedEvent, recordRateLimitEvent } from "./record_security_event.ts";
import { type HeaderPairs, parseAnswer, refusalError } from "./wasm_answer.ts";
import type { Gate, Hardening, Routes } from "./wasm/edgeguard_wasm.js";

/** What a handler receives besides the Request. */
export interface GuardContext {
  requestId: string;
  /** The matched route, e.g. `GET /me`. */
  route: string;
  /** The verified caller (frozen: it may be shared by requests presenting the same token). */
  identity: Readonly<Identity>;
  /** Path parameters of the route (checked against the policy's `params`). */
  params: Record<string, string>;
  /**
   * The body, parsed and checked by the core: JSON value, form fields, or null
   * when empty. `undefined` under `deferBodyChecks` (call `checkBody()`).
   */
  body: unknown;
  /**
   * The body's exact bytes as received (within the route's size limit), for
   * signature checks that must see the raw bytes (webhooks). Never re-serialise `body` instead.
   */
  rawBody: Uint8Array;
  /**
   * The checked body (same value as `body`). Under `deferBodyChecks` the
   * first call runs the core's media type, JSON and schema checks and throws
   * their refusal (415, 400, 422) as a GuardError.
   */
  checkBody(): unknown;
  /**
   * Issues a CSRF token for this caller. For a caller without a user id the
   * token is bound to a fresh random subject, and `cookie` must be sent as
   * `Set-Cookie` with the response.
   */
  csrfToken(): { token: string; expires_in_s: number; cookie?: string };
  /**
   * The client IP as the core resolves it from the deployment's trusted
   * source (`EDGEGUARD_CLIENT_IP`, docs/platform.md): `client_ip` is null when
   * no trustworthy address is there. The same rule the limiter uses.
   */
  clientIp(): ClientIpReport;
}

/** How the client IP resolved for one request. */
export interface ClientIpReport {
  source: string;
  header: string | null;
  header_present: boolean;
  client_ip: string | null;
}

export type Handler = (req: Request, ctx: GuardContext) => Response | Promise<Response>;

/** A fetch handler, the shape Supabase and Deno.serve expect. */
export type FetchHandler = (req: Request, info?: { remoteAddr?: unknown }) => Promise<Response>;

/** Options; most functions pass nothing. */
export interface GuardOptions {
  /** Environment instead of Deno.env (tests, benchmarks). */
  env?: Record<string, string>;
  /**
   * For signed requests (webhooks, auth hooks): the body's media type, JSON
   * and schema are checked only when the handler calls `ctx.checkBody()`,
   * after it has verified the signature over `ctx.rawBody`. An unsigned
   * request is then refused as unsigned, and its body never parsed. The size
   * limit still applies while reading; routes that require CSRF, and routes
   * whose tenant is a body field (their caller is authenticated by then),
   * are checked up front as always: the handler never runs before the
   * body's tenant is compared.
   */
  deferBodyChecks?: boolean;
}

interface State {
  routes: Routes;
  hardening: Hardening;
  gate: Gate;
}

/**
 * Wraps `handler` with the checks `policy` declares. `policy` is the parsed
 * `policy.json` beside the function.
 */
export function guard(policy: unknown, handler: Handler, options: GuardOptions = {}): FetchHandler {
  const env = options.env ?? Deno.env.toObject();
  const production = isProduction(env);
  const setup = setUp(policy, env);
  if (!setup.ok && production) {
    throw new Error(`edgeguard: function refused to start: ${setup.reason}`);
  }
  const runChecks = postgresChecks(connectLimiterPostgres);

  return async (req: Request, info?: { remoteAddr?: unknown }): Promise<Response> => {
    const requestId = requestIdFor(req);
    const rateHeaders: HeaderPairs = [];
    let response: Response;
    try {
      if (!setup.ok) throw new GuardError("MISCONFIGURED", setup.reason);
      response = await run(setup.state, req, remoteAddr(info), requestId, rateHeaders);
    } catch (e) {
      response = respondThrown(e, requestId, production);
    }
    const h = setup.ok ? setup.state.hardening : fallbackHardening();
    return applySecurityHeaders(response, h, req, requestId, rateHeaders);
  };

  async function run(
    s: State,
    req: Request,
    peer: string | undefined,
    requestId: string,
    rateHeaders: HeaderPairs,
  ): Promise<Response> {
    const h = s.hardening;
    if (isPreflight(req)) return answerPreflight(h, req, requestId);

    const url = new URL(req.url);
    const match = findRoute(s.routes, req.method, url.pathname);
    if (!match.ok) {
      // Unknown paths count against the default limits by IP, so probing is limited too.
      enforce(limitRoute(h, "", () => limitFacts(req, peer)), rateHeaders, requestId, "");
      throw refusalError(match);
    }
    const route = match.route;

    const pending = authenticate(s.gate, req, url);
    const auth = pending instanceof Promise ? await pending : pending;
    const caller: Caller = auth.ok ? callerOf(auth.identity) : {};
    const local = limitRoute(h, route, () => limitFacts(req, peer, caller));
    enforce(local, rateHeaders, requestId, route);
    const denyAuth = (code: string, reason: string, actor: string | null, retryAfterS?: number): never => {
      // The core decides which denials become rows: one per (route, code, client IP) per minute.
      if (h.recordDenial(route, code, JSON.stringify(limitFacts(req, peer)), Date.now())) {
        recordAuthDeniedEvent(requestId, route, code, reason, actor);
      }
      throw new GuardError(code, reason, undefined, retryAfterS ? [["retry-after", String(retryAfterS)]] : undefined);
    };
    if (!auth.ok) return denyAuth(auth.code, auth.reason, auth.actor ?? null, auth.retry_after_s);

    // Most routes have no global rule: no database round trip and no microtask then.
    if (local.decision?.global.length) {
      enforce(await limitGlobal(h, route, local, runChecks, requestId), rateHeaders, requestId, route);
    }

    const params = checkParams(h, route, stringifyParams(match.params), url.search.slice(1));
    if (!params.ok) throw refusalError(params);

    // GET and HEAD requests cannot carry a body (the Request constructor refuses one).
    const read = req.method === "GET" || req.method === "HEAD" ? NO_BODY : await readBody(req, h.bodyLimit(route));
    if (!read.ok) throw new GuardError("PAYLOAD_TOO_LARGE", "body exceeds the route's limit");
    const contentType = req.headers.get("content-type");
    let checked: { value: unknown } | undefined;
    const checkedBody = (): unknown => {
      if (!checked) {
        const b = checkBody(h, route, contentType, read.bytes);
        if (!b.ok) throw refusalError(b);
        checked = { value: b.value };
      }
      return checked.value;
    };
    // The core says whether the route checks CSRF at all; when not, its check accepts every request.
    const csrf = h.csrfRequired(route);
    const bodyTenant = auth.tenant_check === "body";
    const body = options.deferBodyChecks && !csrf && !bodyTenant ? undefined : checkedBody();
    if (bodyTenant) {
      const t = checkBodyTenant(s.gate, route, auth.identity, body);
      if (!t.ok) return denyAuth(t.code, t.reason, auth.identity.sub);
    }

    const userId = auth.identity.sub;
    if (csrf) checkCsrf(h, route, req, { userId, body, selfOrigin: url.origin });

    const response = await handler(req, {
      requestId,
      route,
      identity: auth.identity,
      params: match.params,
      body,
      rawBody: read.bytes,
      checkBody: checkedBody,
      clientIp() {
        const a = parseAnswer<ClientIpReport>(h.clientIpReport(JSON.stringify(limitFacts(req, peer))));
        if (!a.ok) throw refusalError(a);
        const { ok: _ok, ...report } = a;
        return report;
      },
      csrfToken() {
        const subject = csrfSubject(req, userId) ?? crypto.randomUUID();
        const issued = issueCsrfToken(h, route, subject);
        const fresh = !userId && subject !== csrfSubject(req);
        return fresh ? { ...issued, cookie: csrfCookie(subject, issued.expires_in_s) } : issued;
      },
    });
    if (!(response instanceof Response)) throw new TypeError("handler did not return a Response");
    return response;
  }
}

type RouteMatch = ReturnType<typeof parseAnswer<{ route: string; params: Record<string, string> }>>;
const routeMemo = new WeakMap<Routes, Map<string, RouteMatch>>();

/**
 * The core's route match, memoised per method and path (it depends on nothing
 * else; bounded). Each request gets its own copy of `params`.
 */
function findRoute(routes: Routes, method: string, path: string): RouteMatch {
  let m = routeMemo.get(routes);
  if (!m) routeMemo.set(routes, m = new Map());
  const key = `${method} ${path}`;
  let a = m.get(key);
  if (!a) {
    a = parseAnswer<{ route: string; params: Record<string, string> }>(routes.find(method, path));
    if (m.size >= 1024) m.clear();
    m.set(key, a);
  }
  return a.ok ? { ...a, params: { ...a.params } } : a;
}

const NO_BODY = { ok: true as const, bytes: new Uint8Array(0) };

function stringifyParams(params: Record<string, string>): string {
  for (const _ in params) return JSON.stringify(params);
  return "{}";
}

const plainRoutes = new WeakMap<Hardening, Map<string, ReturnType<typeof parseAnswer>>>();

/**
 * The core's path and query parameter check. With no path parameters and no
 * query its answer depends only on the route, so it is memoised per route.
 */
function checkParams(h: Hardening, route: string, params: string, query: string) {
  if (params !== "{}" || query !== "") return parseAnswer(h.checkParams(route, params, query));
  let m = plainRoutes.get(h);
  if (!m) plainRoutes.set(h, m = new Map());
  let a = m.get(route);
  if (!a) {
    a = parseAnswer(h.checkParams(route, params, query));
    if (m.size >= 256) m.clear();
    m.set(route, a);
  }
  return a;
}

const emptyBodies = new WeakMap<Hardening, Map<string, ReturnType<typeof parseAnswer<{ value: unknown }>>>>();

/** The core's body check; its answer for an empty body (most GETs) is memoised per route and type. */
function checkBody(h: Hardening, route: string, contentType: string | null, bytes: Uint8Array) {
  if (bytes.length > 0) return parseAnswer<{ value: unknown }>(h.checkBody(route, contentType, bytes));
  let m = emptyBodies.get(h);
  if (!m) emptyBodies.set(h, m = new Map());
  const key = `${route}\n${contentType ?? ""}`;
  let a = m.get(key);
  if (!a) {
    a = parseAnswer<{ value: unknown }>(h.checkBody(route, contentType, bytes));
    if (m.size >= 256) m.clear();
    m.set(key, a);
  }
  return a;
}

/** Builds the per-isolate state; the reason is logged once when it fails. */
function setUp(policy: unknown, env: Record<string, string>): { ok: true; state: State } | { ok: false; reason: string } {
  const hardening = loadHardening(policy, env);
  let reason = hardening.ok ? undefined : hardening.reason;
  let gate: Gate | undefined;
  if (hardening.ok) {
    try {
      gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify(env));
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
  }
  if (!hardening.ok || !gate) {
    log("error", "edgeguard: function misconfigured", { reason, app_env: loadWasm().appEnv(JSON.stringify(env)) });
    return { ok: false, reason: reason ?? "misconfigured" };
  }
  return { ok: true, state: { routes: hardening.routes, hardening: hardening.hardening, gate } };
}

/** Records the verdict's headers; throws its refusal (429, or 503 when the limiter's database is down). */
function enforce(v: LimitVerdict, rateHeaders: HeaderPairs, requestId: string, route: string): void {
  if (v.decision?.ip_note) log("warn", "edgeguard: client IP unknown", { reason: v.decision.ip_note });
  const headers = v.ok ? v.headers : v.headers ?? [];
  rateHeaders.length = 0;
  rateHeaders.push(...headers.filter(([n]) => n.toLowerCase() !== "retry-after"));
  if (v.ok) return;
  if (v.decision?.record_event) recordRateLimitEvent(requestId, route, v.decision);
  throw refusalError(v);
}

function callerOf(identity: Identity): Caller {
  const extra = identity as unknown as { api_key_id?: string };
  return {
    userId: identity.sub,
    apiKeyId: extra.api_key_id ?? (identity.key_name ? `${identity.kind}:${identity.key_name}` : null),
    tenantId: identity.tenant_id,
    role: identity.user_role,
  };
}

function remoteAddr(info?: { remoteAddr?: unknown }): string | undefined {
  const addr = info?.remoteAddr as { hostname?: unknown } | undefined;
  return typeof addr?.hostname === "string" ? addr.hostname : undefined;
}

function respondThrown(e: unknown, requestId: string, production: boolean): Response {
  // db.ts classifies every database error (one list: unavailable → 503), whichever handler lets it through.
  e = toDatabaseError(e);
  if (e instanceof DatabaseUnavailable) {
    log("error", "edgeguard: database unavailable", { request_id: requestId, error: e.reason });
    return respondError("UNAVAILABLE", { requestId, production });
  }
  if (e instanceof DatabaseMisconfigured) {
    log("error", "edgeguard: SUPABASE_DB_URL is not a postgres:// URL", { request_id: requestId });
    return respondError("MISCONFIGURED", { requestId, reason: "SUPABASE_DB_URL is not set", production });
  }
  if (e instanceof GuardError) {
    if (e.code === "MISCONFIGURED") logMisconfiguredOnce(e.reason);
    return respondError(e.code, { requestId, reason: e.reason, details: e.details, headers: e.headers, production });
  }
  const code = errorCode(e);
  log("error", "edgeguard: handler failed", { request_id: requestId, error: code });
  return respondError("INTERNAL", { requestId, production });
}

// One log line per distinct misconfiguration reason (a route that cannot be
// served says why once, not on every request).
const loggedMisconfigured = new Set<string>();

function logMisconfiguredOnce(reason: string | undefined): void {
  const key = reason ?? "";
  if (loggedMisconfigured.has(key) || loggedMisconfigured.size > 64) return;
  loggedMisconfigured.add(key);
  log("error", "edgeguard: route misconfigured", { reason: reason ?? null });
}
