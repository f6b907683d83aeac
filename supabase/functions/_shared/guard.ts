// guard(policy, handler): the one entry point every function uses.
//
// The wasm core makes every decision (route, credentials, roles, tenant);
// this file only sequences the steps and turns decisions into Responses.
import { loadWasm } from "./load_wasm.ts";
import { authenticate, type Identity } from "./authenticate.ts";
import { GuardError, respondError } from "./respond_error.ts";
import { newRequestId } from "./request_id.ts";
import { log } from "./log.ts";
import type { Gate } from "./wasm/edgeguard_wasm.js";

/** What a handler receives besides the Request. */
export interface GuardContext {
  requestId: string;
  /** The matched route, e.g. `GET /me`. */
  route: string;
  /** The verified caller. */
  identity: Identity;
}

export type Handler = (req: Request, ctx: GuardContext) => Response | Promise<Response>;

/** A fetch handler, the shape Supabase and Deno.serve expect. */
export type FetchHandler = (req: Request) => Promise<Response>;

/**
 * Wraps `handler` with the checks `policy` declares. `policy` is the parsed
 * `policy.json` beside the function; the core validates it on first use and a
 * bad policy makes every request answer 500 MISCONFIGURED with one log line.
 */
export function guard(policy: unknown, handler: Handler): FetchHandler {
  let gate: Gate | undefined;
  let setupError: string | undefined;

  function setup(): Gate {
    if (gate) return gate;
    if (setupError) throw new GuardError("MISCONFIGURED", setupError);
    try {
      const wasm = loadWasm();
      gate = new wasm.Gate(JSON.stringify(policy), JSON.stringify(Deno.env.toObject()));
      return gate;
    } catch (e) {
      setupError = e instanceof Error ? e.message : String(e);
      log("error", "edgeguard: function refused to start", { reason: setupError });
      throw new GuardError("MISCONFIGURED", setupError);
    }
  }

  return async (req: Request): Promise<Response> => {
    const requestId = newRequestId();
    try {
      const decision = await authenticate(setup(), req);
      if (!decision.ok) {
        return respondError(decision.code, { requestId, reason: decision.reason });
      }
      const response = await handler(req, {
        requestId,
        route: decision.route,
        identity: decision.identity,
      });
      return finish(response, requestId);
    } catch (e) {
      return respondThrown(e, requestId);
    }
  };
}

function finish(response: Response, requestId: string): Response {
  // A new Response, so headers are mutable even for a fetched one.
  const out = new Response(response.body, response);
  out.headers.set("x-request-id", requestId);
  return out;
}

function respondThrown(e: unknown, requestId: string): Response {
  if (e instanceof GuardError) {
    return respondError(e.code, { requestId, reason: e.reason, details: e.details });
  }
  log("error", "edgeguard: handler failed", {
    request_id: requestId,
    error: e instanceof Error ? e.name : typeof e,
  });
  return respondError("INTERNAL", { requestId });
}
