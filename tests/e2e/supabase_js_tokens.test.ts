// What a browser app does: supabase-js functions.invoke with the user's
// session token (the client's `accessToken` option, as with third-party or
// custom auth), valid and invalid; errors arrive as FunctionsHttpError whose
// Response carries the SPEC §6 body.
import { createClient, FunctionsHttpError } from "npm:@supabase/supabase-js@2.109.0";
import * as assert from "./assert.ts";
import { apiUrl, devKeys, foreignKey, mintToken } from "./stack.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";

async function clientWith(token: string) {
  const { env } = await devKeys();
  return createClient(apiUrl, env.SUPABASE_PUBLISHABLE_KEY, {
    accessToken: () => Promise.resolve(token),
  });
}

async function specError(error: unknown, status: number, code: string) {
  assert.ok(error instanceof FunctionsHttpError, `expected FunctionsHttpError, got ${error}`);
  const res = error.context as Response;
  assert.equal(res.status, status);
  assert.ok((res.headers.get("content-type") ?? "").startsWith("application/json"));
  const body = await res.json();
  assert.equal(body.code, code, JSON.stringify(body));
  assert.equal(typeof body.message, "string");
  assert.equal(body.request_id, res.headers.get("x-request-id"));
  return body;
}

Deno.test("functions.invoke('me') with a valid session token returns the verified identity", async () => {
  const sub = crypto.randomUUID();
  const token = await mintToken({ sub, email: "session@example.com", user_role: "provider", tenant_id: A });
  const { data, error } = await (await clientWith(token)).functions.invoke("me", { method: "GET" });
  assert.equal(error, null, String(error));
  assert.equal(data.sub, sub);
  assert.equal(data.email, "session@example.com");
  assert.equal(data.user_role, "provider");
  assert.equal(data.tenant_id, A);
  assert.ok(data.permissions.includes("services:write"), "provider's own grant");
  assert.ok(data.permissions.includes("services:read"), "inherited from the rungs below");
  assert.ok(!data.permissions.includes("users:write"), "nothing from above");
});

for (const [name, make] of [
  ["an expired session", () => mintToken({}, { expiresIn: -3600 })],
  ["a session of another project (foreign key)", async () => mintToken({}, { signWith: await foreignKey() })],
  ["a tampered session", async () => (await mintToken()).slice(0, -3) + "AAA"],
] as const) {
  Deno.test(`functions.invoke('me') with ${name}: FunctionsHttpError, 401 INVALID_JWT`, async () => {
    const token = await make();
    const { data, error } = await (await clientWith(token)).functions.invoke("me", { method: "GET" });
    assert.equal(data, null);
    const body = await specError(error, 401, "INVALID_JWT");
    assert.ok(!JSON.stringify(body).includes(token.split(".")[1]), "no token in the body");
  });
}

Deno.test("functions.invoke('admin-users/…') as the tenant admin; bad body -> 422 with field path", async () => {
  const token = await mintToken({
    sub: "aaaaaaaa-0000-4000-8000-000000000001",
    email: "admin@tenant-a.test",
    user_role: "admin",
    tenant_id: A,
  });
  const client = await clientWith(token);
  const list = await client.functions.invoke(`admin-users/${A}/members`, { method: "GET" });
  assert.equal(list.error, null, String(list.error));
  assert.ok(list.data.members.length >= 5);
  const bad = await client.functions.invoke(`admin-users/${A}/members/aaaaaaaa-0000-4000-8000-000000000005`, {
    method: "PATCH",
    body: { role: "superuser" },
  });
  const body = await specError(bad.error, 422, "VALIDATION_FAILED");
  assert.deepEqual(body.details.map((d: { path: string }) => d.path), ["/role"]);
});
