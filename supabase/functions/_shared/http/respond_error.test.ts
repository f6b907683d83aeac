import { errorBody, GuardError, respondError } from "./respond_error.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("each code gets the status the core assigns (docs/errors.md)", () => {
  const cases: [string, number][] = [
    ["MISSING_CREDENTIALS", 401],
    ["INVALID_API_KEY", 401],
    ["TENANT_MISMATCH", 403],
    ["METHOD_NOT_ALLOWED", 405],
    ["PAYLOAD_TOO_LARGE", 413],
    ["UNSUPPORTED_MEDIA_TYPE", 415],
    ["VALIDATION_FAILED", 422],
    ["QUOTA_EXCEEDED", 429],
    ["MISCONFIGURED", 500],
    ["UNAVAILABLE", 503],
  ];
  for (const [code, status] of cases) {
    const { status: got, body } = errorBody(code, { requestId: "r", production: true });
    eq(got, status, code);
    eq(body.code, code);
    assert(typeof body.message === "string" && body.message.length > 0, `${code} has a message`);
  }
});

Deno.test("the hint and details are sent outside production only", () => {
  const dev = errorBody("VALIDATION_FAILED", {
    requestId: "r1",
    reason: "name: too short",
    details: [{ path: "/name", message: "too short" }],
    production: false,
  }).body;
  eq(dev.hint, "name: too short");
  eq(JSON.stringify(dev.details), '[{"path":"/name","message":"too short"}]');
  const prod = errorBody("VALIDATION_FAILED", {
    requestId: "r1",
    reason: "name: too short",
    details: [{ path: "/name", message: "too short" }],
    production: true,
  }).body;
  assert(!("hint" in prod) && !("details" in prod), "production says no more than the code");
  eq(Object.keys(prod).sort().join(","), "code,message,request_id");
});

Deno.test("the response is JSON with the request id in body and header, and the caller's headers", async () => {
  const res = respondError("RATE_LIMITED", {
    requestId: "req-42",
    headers: [["retry-after", "7"]],
    production: true,
  });
  eq(res.status, 429);
  eq(res.headers.get("content-type"), "application/json");
  eq(res.headers.get("x-request-id"), "req-42");
  eq(res.headers.get("retry-after"), "7");
  const body = await res.json();
  eq(body.request_id, "req-42");
  eq(body.code, "RATE_LIMITED");
});

Deno.test("a caller's content-type or request id header cannot override the error's", () => {
  const res = respondError("FORBIDDEN", {
    requestId: "req-1",
    headers: { "content-type": "text/html", "x-request-id": "spoofed" },
    production: true,
  });
  eq(res.headers.get("content-type"), "application/json");
  eq(res.headers.get("x-request-id"), "req-1");
});

Deno.test("GuardError carries its code, reason, details and headers; its message is the reason", () => {
  const e = new GuardError("QUOTA_EXCEEDED", "monthly quota spent", { reset_at: "2027-01-01T00:00:00Z" }, [["retry-after", "60"]]);
  assert(e instanceof Error, "an Error");
  eq(e.name, "GuardError");
  eq(e.message, "monthly quota spent");
  eq(e.code, "QUOTA_EXCEEDED");
  eq(JSON.stringify(e.headers), '[["retry-after","60"]]');
  eq(new GuardError("NOT_FOUND").message, "NOT_FOUND");
});
