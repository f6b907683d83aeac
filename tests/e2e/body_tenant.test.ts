// A route whose tenant is a top-level body field, over HTTP
// (request-probe `POST /tenant-items`, body limit 1 KiB): credentials are
// checked before the body is read, the body's tenant after the body checks
// and before the handler (docs/policy.md).
import * as assert from "./assert.ts";
import { assertError, probe, randomIp } from "./probe_support.ts";
import { mintToken } from "./stack.ts";

const post = (body: string, token?: string) =>
  fetch(probe("/tenant-items"), {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": randomIp(),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });

Deno.test("body tenant: the same tenant reaches the handler with its body", async () => {
  const token = await mintToken({ tenant_id: "tenant-a", sub: "22222222-2222-4222-8222-222222222222" });
  const res = await post('{"tenant_id":"tenant-a","name":"box"}', token);
  assert.equal(res.status, 200);
  const got = await res.json();
  assert.equal(got.route, "POST /request-probe/tenant-items");
  assert.deepEqual(got.body, { tenant_id: "tenant-a", name: "box" });
  assert.equal(got.sub, "22222222-2222-4222-8222-222222222222");
});

Deno.test("body tenant: another, missing or non-string tenant is 403 TENANT_MISMATCH with its reason", async () => {
  const token = await mintToken({ tenant_id: "tenant-a" });
  const cases: [string, string][] = [
    ['{"tenant_id":"tenant-b","name":"box"}', "another tenant"],
    ['{"name":"box"}', 'body field "tenant_id" is missing'],
    ['{"tenant_id":7}', 'body field "tenant_id" is not a string'],
  ];
  for (const [body, hint] of cases) {
    const err = await assertError(await post(body, token), 403, "TENANT_MISMATCH");
    assert.ok(String(err.hint ?? "").includes(hint), `${body}: hint ${err.hint} lacks ${hint}`);
  }
  // The body's own checks still come first.
  await assertError(await post('{"tenant_id":"tenant-a","name":7}', token), 422, "VALIDATION_FAILED");
});

Deno.test("body tenant: an unauthenticated caller is 401 and its body is never read", async () => {
  // 4 KiB against the route's 1 KiB limit: reading it would answer 413.
  const big = JSON.stringify({ tenant_id: "tenant-a", name: "x".repeat(4096) });
  await assertError(await post(big), 401, "MISSING_CREDENTIALS");
  await assertError(await post(big, "not.a.jwt"), 401, "INVALID_JWT");
  // The same body from an authenticated caller is read, and refused for its size.
  await assertError(await post(big, await mintToken({ tenant_id: "tenant-a" })), 413, "PAYLOAD_TOO_LARGE");
});
