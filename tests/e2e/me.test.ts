// `me` verifies the caller inside the function (wasm), with verify_jwt = false.
import * as assert from "./assert.ts";
import { errorBody, foreignKey, functionsUrl, mintToken } from "./stack.ts";

const me = (headers: HeadersInit = {}) => fetch(`${functionsUrl}/me`, { headers });

Deno.test("me with a valid dev ES256 token answers 200 with the caller's claims", async () => {
  const sub = crypto.randomUUID();
  const token = await mintToken({ sub, email: "alice@example.com" });
  const res = await me({ authorization: `Bearer ${token}` });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.sub, sub);
  assert.equal(body.role, "authenticated");
  assert.equal(body.email, "alice@example.com");
  assert.ok(res.headers.get("x-request-id"));
});

Deno.test("me accepts a legacy HS256 token signed with JWT_SECRET", async () => {
  const sub = crypto.randomUUID();
  const res = await me({ authorization: `Bearer ${await mintToken({ sub }, { alg: "HS256" })}` });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.sub, sub);
});

Deno.test("me without credentials answers 401 MISSING_CREDENTIALS", async () => {
  const res = await me();
  assert.equal(res.status, 401);
  const body = await errorBody(res);
  assert.equal(body.code, "MISSING_CREDENTIALS");
  assert.equal(res.headers.get("x-request-id"), body.request_id);
});

const badTokens: [string, () => Promise<string>][] = [
  ["garbage", () => Promise.resolve("not.a.jwt")],
  ["a token signed by an unknown key with the dev kid", async () => await mintToken({}, { signWith: await foreignKey() })],
  ["an expired token", () => mintToken({}, { expiresIn: -3600 })],
  ["an HS256 token signed with the wrong secret", async () => {
    const good = await mintToken({}, { alg: "HS256" });
    const [h, p] = good.split(".");
    return `${h}.${p}.${"A".repeat(43)}`;
  }],
  ["a token with alg none", async () => {
    const good = await mintToken();
    const [, p] = good.split(".");
    const h = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
    return `${h}.${p}.`;
  }],
];
for (const [name, make] of badTokens) {
  Deno.test(`me with ${name} answers 401 INVALID_JWT without echoing the token`, async () => {
    const token = await make();
    const res = await me({ authorization: `Bearer ${token}` });
    assert.equal(res.status, 401);
    const text = await res.clone().text();
    const body = await errorBody(res);
    assert.equal(body.code, "INVALID_JWT");
    if (token.length > 16) assert.ok(!text.includes(token.split(".")[1] || token), "token echoed in the body");
  });
}
