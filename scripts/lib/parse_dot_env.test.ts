import * as assert from "../../tests/e2e/assert.ts";
import { parseDotEnv } from "./parse_dot_env.ts";

Deno.test("parseDotEnv reads plain, exported, quoted and commented lines", () => {
  const env = parseDotEnv([
    "# comment",
    "",
    "A=1",
    "export B = two words # trailing comment",
    'C="quoted # not a comment\\nnext"',
    "D='single $x'",
    "E=",
    "not a line",
    "F=v1,whsec_abc=",
  ].join("\n"));
  assert.deepEqual(env, {
    A: "1",
    B: "two words",
    C: "quoted # not a comment\nnext",
    D: "single $x",
    E: "",
    F: "v1,whsec_abc=",
  });
});

Deno.test("parseDotEnv: a later line wins, CRLF files work", () => {
  assert.deepEqual(parseDotEnv("A=1\r\nA=2\r\n"), { A: "2" });
});
