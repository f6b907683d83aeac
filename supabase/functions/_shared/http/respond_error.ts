// Turns a SPEC error code into its JSON error response (`code`, `message`,
// `request_id`; `hint` and `details` outside production: README.md).
import { loadWasm } from "../runtime/load_wasm.ts";
import { isProduction } from "../runtime/app_env.ts";

/** An error a handler may throw to answer with a SPEC code. */
export class GuardError extends Error {
  constructor(
    readonly code: string,
    readonly reason?: string,
    readonly details?: unknown,
    /** Headers the error response carries, e.g. `Retry-After`. */
    readonly headers?: [string, string][],
  ) {
    super(reason ?? code);
    this.name = "GuardError";
  }
}

export interface ErrorOptions {
  requestId: string;
  /** Precise reason; sent as `hint` outside production only. */
  reason?: string;
  details?: unknown;
  message?: string;
  headers?: HeadersInit;
  /** Production (no hints); default: the process environment, by the core's rule. */
  production?: boolean;
}

/** The status and SPEC body for `code` (hint and details only outside production). */
export function errorBody(code: string, options: ErrorOptions): { status: number; body: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    code,
    message: options.message ?? defaultMessage(code),
    request_id: options.requestId,
  };
  if (!(options.production ?? safeIsProduction())) {
    if (options.reason) body.hint = options.reason;
    if (options.details !== undefined) body.details = options.details;
  }
  return { status: statusOf(code), body };
}

/** Builds the error Response for `code`: status from the core, SPEC body. */
export function respondError(code: string, options: ErrorOptions): Response {
  const { status, body } = errorBody(code, options);
  const headers = new Headers(options.headers);
  headers.set("content-type", "application/json");
  headers.set("x-request-id", options.requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

function statusOf(code: string): number {
  try {
    return loadWasm().errorStatus(code);
  } catch {
    return 500; // the wasm itself failed: only MISCONFIGURED is answered then
  }
}

function defaultMessage(code: string): string {
  try {
    return loadWasm().errorMessage(code);
  } catch {
    return "the function is misconfigured";
  }
}

function safeIsProduction(): boolean {
  try {
    return isProduction();
  } catch {
    return true; // the wasm itself failed: say no more than needed
  }
}
