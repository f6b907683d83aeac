// The same `me` call a browser app makes, through @supabase/supabase-js.
import * as assert from "./assert.ts";
import { createClient, FunctionsHttpError } from "npm:@supabase/supabase-js@2.109.0";
import { apiUrl, devKeys, mintToken } from "./stack.ts";

async function client() {
  const { env } = await devKeys();
  return createClient(apiUrl, env.SUPABASE_PUBLISHABLE_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

Deno.test("supabase-js functions.invoke('me') with a dev token returns the caller", async () => {
  const sub = crypto.randomUUID();
  const token = await mintToken({ sub, email: "bob@example.com" });
  const { data, error } = await (await client()).functions.invoke("me", {
    method: "GET",
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(error, null, String(error));
  assert.equal(data.sub, sub);
  assert.equal(data.email, "bob@example.com");
  assert.equal(data.role, "authenticated");
});

Deno.test("supabase-js functions.invoke('me') without a user token is refused with 401", async () => {
  const { data, error } = await (await client()).functions.invoke("me", { method: "GET" });
  assert.equal(data, null);
  assert.ok(error instanceof FunctionsHttpError, `expected FunctionsHttpError, got ${error}`);
  const res = error.context as Response;
  assert.equal(res.status, 401);
  const body = await res.json();
  // supabase-js sends the publishable key as apikey and as the Bearer token.
  assert.ok(["MISSING_CREDENTIALS", "INVALID_JWT", "INVALID_API_KEY"].includes(body.code), body.code);
  assert.equal(typeof body.request_id, "string");
});

Deno.test("supabase-js functions.invoke('health') answers ok", async () => {
  const { data, error } = await (await client()).functions.invoke("health", { method: "GET" });
  assert.equal(error, null, String(error));
  assert.equal(data.status, "ok");
});
