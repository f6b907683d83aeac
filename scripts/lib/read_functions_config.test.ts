import * as assert from "../../tests/e2e/assert.ts";
import { readFunctionsConfig } from "./read_functions_config.ts";

Deno.test("readFunctionsConfig reads each [functions.<name>] table, bare or quoted", () => {
  const map = readFunctionsConfig(`
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
enabled = false
`);
  assert.deepEqual(Object.fromEntries(map), {
    health: { enabled: true, verifyJwt: false },
    "auth-hooks": { verifyJwt: true },
    me: { enabled: false, verifyJwt: true },
  });
});

Deno.test("readFunctionsConfig ignores values that are not booleans and commented-out lines; bad TOML throws", () => {
  const map = readFunctionsConfig(`[functions.a]\nverify_jwt = "false"\n[functions.b]\n# verify_jwt = false\n`);
  assert.deepEqual(Object.fromEntries(map), { a: {}, b: {} });
  let threw = false;
  try {
    readFunctionsConfig(`[functions.a\nverify_jwt = false`);
  } catch {
    threw = true;
  }
  assert.ok(threw, "unparsable TOML is an error, not an empty config");
});

Deno.test("readFunctionsConfig reads the repository's config.toml with an entry per function", async () => {
  const toml = await Deno.readTextFile(new URL("../../supabase/config.toml", import.meta.url));
  const map = readFunctionsConfig(toml);
  assert.equal(map.get("health")?.verifyJwt, false);
  assert.equal(map.get("me")?.enabled, true);
});
