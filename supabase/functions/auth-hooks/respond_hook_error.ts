// Errors of the auth hooks: the SPEC §6 body plus the `error` object Supabase
// Auth reads from hook responses (`{"error": {"http_code": …, "message": …}}`),
// so Auth surfaces a meaningful message and our clients still get `code`.
import { GuardError, respondError } from "../_shared/respond_error.ts";

/** The error Response for `e`, a GuardError (other errors are rethrown to guard()). */
export async function respondHookError(e: unknown, requestId: string): Promise<Response> {
  if (!(e instanceof GuardError)) throw e;
  const base = respondError(e.code, { requestId, reason: e.reason, details: e.details });
  const body = await base.json() as Record<string, unknown>;
  body.error = { http_code: base.status, message: body.message };
  return new Response(JSON.stringify(body), { status: base.status, headers: base.headers });
}
