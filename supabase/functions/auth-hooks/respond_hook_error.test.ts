import { respondHookError } from "./respond_hook_error.ts";
import { GuardError } from "../_shared/respond_error.ts";
import { assert, eq } from "../_shared/test_assert.ts";

Deno.test("respondHookError: SPEC body plus Supabase Auth's error object, same status", async () => {
  const res = await respondHookError(new GuardError("INVALID_SIGNATURE", "no signature matches"), "req-1");
  eq(res.status, 401, "status");
  eq(res.headers.get("content-type"), "application/json", "content type");
  eq(res.headers.get("x-request-id"), "req-1", "request id header");
  const body = await res.json();
  eq(body.code, "INVALID_SIGNATURE", "code");
  eq(body.request_id, "req-1", "request id");
  eq(body.error.http_code, 401, "error.http_code");
  eq(body.error.message, body.message, "error.message");
});

Deno.test("respondHookError: other errors are rethrown for guard() to answer 500 without details", async () => {
  let thrown: unknown;
  try {
    await respondHookError(new Error("db down at /srv/x.ts:1"), "req-2");
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof Error && thrown.message.startsWith("db down"), "rethrown");
});
