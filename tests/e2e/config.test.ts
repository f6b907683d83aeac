// supabase/config.toml: valid for the Supabase CLI; an entry per function.
import * as assert from "./assert.ts";
import { root } from "./stack.ts";

const functionNames = [...Deno.readDirSync(`${root}/supabase/functions`)]
  .filter((e) => e.isDirectory && !e.name.startsWith("_") && !e.name.startsWith("."))
  .filter((e) => {
    try {
      return Deno.statSync(`${root}/supabase/functions/${e.name}/index.ts`).isFile;
    } catch {
      return false;
    }
  })
  .map((e) => e.name);

Deno.test("config.toml has a [functions.<name>] entry with an explicit verify_jwt for every function", async () => {
  const toml = await Deno.readTextFile(`${root}/supabase/config.toml`);
  assert.ok(functionNames.length > 0);
  for (const name of functionNames) {
    const section = new RegExp(`^\\[functions\\.${name}\\]\\s*$([^\\[]*)`, "m").exec(toml);
    assert.ok(section, `[functions.${name}] missing`);
    assert.match(section[1], /^verify_jwt = (true|false)$/m, `[functions.${name}] lacks verify_jwt`);
  }
});

Deno.test("the Supabase CLI parses config.toml", async () => {
  // `supabase status` loads the config before it looks for Docker; a bad
  // config fails with "failed to read config" / "Invalid TOML".
  const work = await Deno.makeTempDir({ prefix: "edgeguard-config-" });
  try {
    await Deno.mkdir(`${work}/supabase`);
    await Deno.copyFile(`${root}/supabase/config.toml`, `${work}/supabase/config.toml`);
    const out = await new Deno.Command(`${root}/node_modules/.bin/supabase`, {
      args: ["status", "--workdir", work],
      cwd: work,
      stdout: "piped",
      stderr: "piped",
      // The hook secret a user puts in supabase/.env (npm run dev writes it): the
      // CLI validates `env(AUTH_HOOK_SECRET)` of the enabled auth hooks.
      env: { CI: "true", DO_NOT_TRACK: "1", AUTH_HOOK_SECRET: `v1,whsec_${btoa("k".repeat(32))}` },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.doesNotMatch(text, /failed to (read|load|parse) config|Invalid TOML|unknown field|invalid/i, text);
    assert.ok(out.code === 0 || /docker|container/i.test(text), `unexpected supabase status result:\n${text}`);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
