import * as assert from "./assert.ts";
import { functionsUrl } from "./stack.ts";

Deno.test("health answers 200 {status: ok, version} over raw fetch", async () => {
  const res = await fetch(`${functionsUrl}/health`);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.ok(res.headers.get("x-request-id"), "x-request-id header");
  assert.equal(body.status, "ok");
  assert.match(body.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
});

Deno.test("health needs no credentials and ignores a bad token", async () => {
  const res = await fetch(`${functionsUrl}/health`, { headers: { authorization: "Bearer not-a-jwt" } });
  await res.body?.cancel();
  assert.equal(res.status, 200);
});
