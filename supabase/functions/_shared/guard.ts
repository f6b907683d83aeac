// guard(policy, handler, options): the one entry point every function uses.
//
// An I/O loop over the core's request pipeline (docs/architecture.md): the
// wasm Guard decides every check and its order and answers each request with
// a step; this file does what a step asks (fetch the JWKS, query Postgres,
// read the body with a byte counter, run the handler) and turns the last step
// into a Response. Every response, errors included, gets the security
// headers, CORS headers for an allowed Origin, the request's RateLimit
// headers and `x-request-id`.
//
// Misconfiguration (bad policy, missing or short secret, `*` CORS in
// production) is found once per isolate, when the module loads: outside
// production every request then answers 500 MISCONFIGURED and one log line
// says why; with APP_ENV=production guard() throws, so the function never
// boots and no request reaches an unprotected handler.
import { loadWasm } from "./runtime/load_wasm.ts";
import { isProduction } from "./runtime/app_env.ts";
import { log } from "./runtime/log.ts";
import { GuardError, respondError } from "./http/respond_error.ts";
import { requestIdFor } from "./http/request_id.ts";
import { readBody } from "./http/read_body.ts";
import { fetchJwks } from "./http/fetch_jwks.ts";
import { applyHeaders, type HeaderPairs } from "./http/apply_headers.ts";
import { errorCode } from "./db/database_error.ts";
import { respondThrown } from "./http/respond_thrown.ts";
import { lookupApiKey } from "./db/lookup_api_key.ts";
import { hitGlobalLimits } from "./db/hit_global_limits.ts";
import { recordSecurityEvent } from "./db/record_security_event.ts";
import type { Allowed, Answer, ClientIpReport, Guard, Identity, Refusal } from "./wasm/edgeguard_wasm.js";

export type { ClientIpReport, Identity };

/** What a handler receives besides the Request. */
export interface GuardContext {
  requestId: string;
  /** The matched route, e.g. `GET /me`. */
  route: string;
  /** The verified caller (frozen: shared by the requests presenting the same token). */
  identity: Readonly<Identity>;
  /** Path parameters of the route (checked against the policy's `params`). */
  params: Record<string, string>;
  /** The checked body (JSON value, form fields, null when empty); `undefined` under `deferBodyChecks`. */
  body: unknown;
  /** The body's exact bytes as received (within the route's limit), for signature checks. */
  rawBody: Uint8Array;
  /** The checked body; under `deferBodyChecks` the first call runs the checks and throws their refusal (415, 400, 422). */
  checkBody(): unknown;
  /** A CSRF token for this caller; `cookie` (a fresh subject) must then be sent as `Set-Cookie`. */
  csrfToken(): { token: string; expires_in_s: number; cookie?: string };
  /** How the client IP resolves from the deployment's trusted source (`EDGEGUARD_CLIENT_IP`, docs/platform.md). */
  clientIp(): ClientIpReport;
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
   * after it verified the signature over `ctx.rawBody`. CSRF routes and
   * body-tenant routes are checked up front all the same.
   */
  deferBodyChecks?: boolean;
}

const EMPTY = new Uint8Array(0);

/** Wraps `handler` with the checks `policy` (the parsed `policy.json`) declares. */
export function guard(policy: unknown, handler: Handler, options: GuardOptions = {}): FetchHandler {
  const env = options.env ?? Deno.env.toObject();
  const production = isProduction(env);
  let core: Guard | undefined;
  let reason = "misconfigured";
  try {
    core = new (loadWasm().Guard)(JSON.stringify(policy), JSON.stringify(env), options.deferBodyChecks ?? false);
  } catch (e) {
    reason = e instanceof Error ? e.message : String(e);
    if (production) throw new Error(`edgeguard: function refused to start: ${reason}`);
    log("error", "edgeguard: function misconfigured", { reason, app_env: loadWasm().appEnv(JSON.stringify(env)) });
  }

  return async (req, info) => {
    if (!core) {
      const requestId = requestIdFor(req);
      const res = respondError("MISCONFIGURED", { requestId, reason, production });
      return applyHeaders(res, loadWasm().defaultResponseHeaders(), [], requestId);
    }
    const g = core;
    const peer = remoteAddr(info);
    let step: Answer = g.begin(req, peer, Date.now());
    const { request_id: requestId, response: headers } = step;
    let rateHeaders: HeaderPairs = [];
    let rawBody: Uint8Array = EMPTY;
    let res: Response;
    try {
      for (;;) {
        if (step.note) log("warn", "edgeguard: client IP unknown", { reason: step.note });
        const flow = step.flow ?? 0;
        if (step.kind === "allow") {
          rateHeaders = step.rate_headers;
          res = await runHandler(g, handler, req, step, requestId, rawBody, peer);
          break;
        } else if (step.kind === "refuse") {
          if (step.event) recordSecurityEvent(requestId, step.event);
          res = refusalResponse(step, requestId, production);
          break;
        } else if (step.kind === "preflight") {
          res = new Response(null, { status: step.status, headers: step.headers });
          break;
        } else if (step.kind === "need_jwks") {
          const jwks = await fetchJwks(step.url, step.max_bytes).catch((e) => {
            log("warn", "edgeguard: JWKS fetch failed", { reason: e instanceof Error ? e.message : "unknown" });
            return undefined;
          });
          step = g.resumeJwks(flow, jwks?.text, jwks?.cacheControl ?? undefined, Date.now());
        } else if (step.kind === "need_api_key_lookup") {
          const row = await abandonOnError(g, flow, lookupApiKey(step.key_hash, step.previous_hash ?? null));
          step = g.resumeApiKey(flow, JSON.stringify(row), Date.now());
        } else if (step.kind === "need_global_limits") {
          const results = await hitGlobalLimits(step.checks).catch((e) => {
            log("warn", "edgeguard: rate limiter database unavailable", { request_id: requestId, error: errorCode(e) });
            return undefined;
          });
          step = g.resumeGlobalLimits(flow, results && JSON.stringify(results), Date.now());
        } else {
          const read = await abandonOnError(g, flow, readBody(req, step.max_bytes));
          if (read.ok) rawBody = read.bytes;
          step = g.resumeBody(flow, read.ok ? read.bytes : undefined, Date.now());
        }
      }
    } catch (e) {
      res = respondThrown(e, requestId, production);
    }
    return applyHeaders(res, headers, rateHeaders, requestId);
  };

  async function runHandler(
    g: Guard,
    handler: Handler,
    req: Request,
    allowed: Allowed & { identity: Readonly<Identity> },
    requestId: string,
    rawBody: Uint8Array,
    peer: string | undefined,
  ): Promise<Response> {
    const route = allowed.route;
    let checked: { value: unknown } | undefined = allowed.body_deferred ? undefined : { value: allowed.body };
    const response = await handler(req, {
      requestId,
      route,
      identity: allowed.identity,
      params: allowed.params,
      body: checked?.value,
      rawBody,
      checkBody() {
        if (!checked) {
          const c = g.checkBody(route, req.headers.get("content-type") ?? undefined, rawBody);
          if (c.kind === "refuse") throw refusalError(c);
          checked = { value: c.value };
        }
        return checked.value;
      },
      csrfToken() {
        try {
          return g.issueCsrfToken(route, allowed.identity.sub ?? undefined, req, Date.now());
        } catch (r) {
          throw refusalError(r as Refusal);
        }
      },
      clientIp: () => g.clientIp(req, peer),
    });
    if (!(response instanceof Response)) throw new TypeError("handler did not return a Response");
    return response;
  }
}

/** Runs `io`; when it throws, the flow it would have resumed is dropped first. */
async function abandonOnError<T>(g: Guard, flow: number, io: Promise<T>): Promise<T> {
  try {
    return await io;
  } catch (e) {
    g.abandon(flow);
    throw e;
  }
}

function refusalError(r: Refusal): GuardError {
  return new GuardError(r.code, r.reason, r.details, r.headers);
}

function refusalResponse(r: Refusal, requestId: string, production: boolean): Response {
  return respondError(r.code, { requestId, reason: r.reason, details: r.details, headers: r.headers, production });
}

function remoteAddr(info?: { remoteAddr?: unknown }): string | undefined {
  const addr = info?.remoteAddr as { hostname?: unknown } | undefined;
  return typeof addr?.hostname === "string" ? addr.hostname : undefined;
}
