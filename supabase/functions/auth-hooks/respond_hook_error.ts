// Answers to Supabase Auth as it reads hook responses (docs/platform.md):
// Auth reads only a 200/202 JSON body and turns every other status into a
// generic 500, so a refusal is 200 with `{"error": {"http_code", "message"}}`
// (which Auth passes to the end user) beside our SPEC body; a transient
// failure (database down) is 503 with `Retry-After`, which Auth retries.
import { errorBody, GuardError, respondError } from "../_shared/http/respond_error.ts";
import type { HookAnswer } from "./answer_once.ts";

/**
 * The answer for a handled refusal (a GuardError with a 4xx code), or
 * undefined for anything else: a server fault (MISCONFIGURED, INTERNAL) stays
 * a real 5xx for guard() to answer, so operators see it as one.
 */
export function hookRefusal(e: unknown, requestId: string): HookAnswer | undefined {
  if (!(e instanceof GuardError)) return undefined;
  const { status, body } = errorBody(e.code, { requestId, reason: e.reason, details: e.details });
  if (status >= 500) return undefined;
  body.error = { http_code: status, message: body.message };
  return { status: 200, body };
}

/** The Response for an answer. */
export function respondHook(answer: HookAnswer, requestId: string): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { "content-type": "application/json", "x-request-id": requestId },
  });
}

/** 503 UNAVAILABLE with `Retry-After`: Supabase Auth retries it within its budget. */
export function hookUnavailable(requestId: string): Response {
  return respondError("UNAVAILABLE", { requestId, headers: { "retry-after": "1" } });
}
