import { hookRefusal, hookUnavailable, respondHook } from "./respond_hook_error.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import { assert, eq } from "../_shared/test_assert.ts";

Deno.test("hookRefusal: 200 with Supabase Auth's error object beside the SPEC body", async () => {
  const answer = hookRefusal(new GuardError("INVALID_SIGNATURE", "no signature matches"), "req-1");
  assert(answer, "a GuardError is a refusal");
  eq(answer.status, 200, "Auth reads only 200/202 bodies");
  const res = respondHook(answer, "req-1");
  eq(res.status, 200, "status");
  eq(res.headers.get("content-type"), "application/json", "content type");
  eq(res.headers.get("x-request-id"), "req-1", "request id header");
  const body = await res.json();
  eq(body.code, "INVALID_SIGNATURE", "code");
  eq(body.request_id, "req-1", "request id");
  eq(body.error.http_code, 401, "error.http_code is the SPEC status");
  assert(typeof body.error.message === "string" && body.error.message.length > 0, "Auth ignores an empty message");
  eq(body.error.message, body.message, "error.message");
});

Deno.test("hookRefusal: other errors and server faults are not refusals (guard answers them 500 without details)", () => {
  eq(hookRefusal(new Error("db down at /srv/x.ts:1"), "req-2"), undefined, "not a refusal");
  eq(hookRefusal(new GuardError("MISCONFIGURED", "AUTH_HOOK_SECRET is missing"), "req-2"), undefined, "a server fault");
});

Deno.test("hookUnavailable: 503 with Retry-After, which Auth retries", async () => {
  const res = hookUnavailable("req-3");
  eq(res.status, 503, "status");
  eq(res.headers.get("retry-after"), "1", "Retry-After present");
  eq((await res.json()).code, "UNAVAILABLE", "code");
});
