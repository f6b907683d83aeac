import * as assert from "../../tests/e2e/assert.ts";
import { readVerifyJwt } from "./read_verify_jwt.ts";

Deno.test("readVerifyJwt reads each [functions.<name>] table, bare or quoted", () => {
  const map = readVerifyJwt(`
project_id = "x"
[api]
verify_jwt = false   # not a function table: ignored

[functions.health]
enabled = true
verify_jwt = false # comment

[functions."auth-hooks"]
verify_jwt = true

[functions.me]
  verify_jwt=true
[functions.me.extra]
verify_jwt = false
`);
  assert.deepEqual(Object.fromEntries(map), { health: false, "auth-hooks": true, me: true });
});

Deno.test("readVerifyJwt ignores values that are not booleans and commented-out lines", () => {
  const map = readVerifyJwt(`[functions.a]\nverify_jwt = "false"\n[functions.b]\n# verify_jwt = false\n`);
  assert.equal(map.size, 0);
});

Deno.test("readVerifyJwt reads the repository's config.toml with an entry per function", async () => {
  const toml = await Deno.readTextFile(new URL("../../supabase/config.toml", import.meta.url));
  const map = readVerifyJwt(toml);
  assert.equal(map.get("health"), false);
  assert.ok(map.has("me"));
});
