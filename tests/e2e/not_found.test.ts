import * as assert from "./assert.ts";
import { apiUrl, errorBody, functionsUrl } from "./stack.ts";

for (const path of [
  "/functions/v1/no-such-function",
  "/functions/v1/no-such-function/deeper/path?x=1",
  "/functions/v1/_shared",
  "/functions/v1/",
  "/",
  "/rest/v1/profiles",
]) {
  Deno.test(`${path} answers 404 NOT_FOUND with the SPEC error body`, async () => {
    const res = await fetch(`${apiUrl}${path}`);
    assert.equal(res.status, 404);
    const body = await errorBody(res);
    assert.equal(body.code, "NOT_FOUND");
    assert.deepEqual(Object.keys(body).sort(), ["code", "message", "request_id"]);
    assert.equal(res.headers.get("x-request-id"), body.request_id);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  });
}

Deno.test("each 404 carries its own request id", async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${functionsUrl}/nope`);
    ids.add((await errorBody(res)).request_id);
  }
  assert.equal(ids.size, 3);
});
