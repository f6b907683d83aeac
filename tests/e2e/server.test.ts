// The local function server itself: JWKS, URL rewriting, broken functions, busy ports.
import * as assert from "./assert.ts";
import { apiUrl, devKeys, errorBody, freePort, root, startServer, stateDir } from "./stack.ts";

Deno.test("the dev JWKS is served at /auth/v1/.well-known/jwks.json with kid, alg and use", async () => {
  const res = await fetch(`${apiUrl}/auth/v1/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  const jwks = await res.json();
  const { private_jwk } = await devKeys();
  assert.equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  assert.equal(key.kid, private_jwk.kid);
  assert.equal(key.alg, "ES256");
  assert.equal(key.use, "sig");
  assert.equal(key.d, undefined, "the private part must not be published");
});

/**
 * Writes throw-away functions (and a config.toml declaring each with
 * verify_jwt = false) into a temporary directory; returns the server settings.
 */
async function withFunctions(files: Record<string, string>): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-functions-" });
  const names = new Set<string>();
  for (const [path, text] of Object.entries(files)) {
    const full = `${dir}/functions/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
    if (path.endsWith("/index.ts")) names.add(path.split("/")[0]);
  }
  const toml = [...names].map((n) => `[functions.${n}]\nverify_jwt = false\n`).join("\n");
  await Deno.writeTextFile(`${dir}/config.toml`, toml);
  return { dir, env: { EDGEGUARD_FUNCTIONS_DIR: `${dir}/functions`, EDGEGUARD_CONFIG: `${dir}/config.toml` } };
}

Deno.test("a function sees /<name>/... and the query; its env has the dev values", async () => {
  const { dir, env: serverEnv } = await withFunctions({
    "echo/index.ts": `export default { fetch: (req: Request) => Response.json({
      url: req.url, method: req.method,
      env: Object.fromEntries(["SUPABASE_URL", "APP_ENV", "SUPABASE_PUBLISHABLE_KEYS", "SECRET_KEY", "FROM_DOTENV", "SUPABASE_DB_URL"]
        .map((k) => [k, Deno.env.get(k) ?? null])),
      body: req.body ? "present" : "none",
    }) };`,
    ".env": "FROM_DOTENV=hello\nSUPABASE_URL=http://evil.example\n",
  });
  const server = await startServer(serverEnv);
  try {
    const res = await fetch(`${server.url}/functions/v1/echo/a/b?x=1&y=2`, { method: "POST", body: "hi" });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const seen = new URL(body.url);
    assert.equal(seen.pathname, "/echo/a/b");
    assert.equal(seen.search, "?x=1&y=2");
    assert.equal(body.method, "POST");
    assert.equal(body.body, "present");
    assert.equal(body.env.SUPABASE_URL, server.url, "SUPABASE_ names in .env are reserved");
    assert.equal(body.env.APP_ENV, "development");
    assert.equal(body.env.FROM_DOTENV, "hello");
    const { env } = await devKeys();
    assert.deepEqual(JSON.parse(body.env.SUPABASE_PUBLISHABLE_KEYS), { default: env.SUPABASE_PUBLISHABLE_KEY });
    assert.ok(body.env.SECRET_KEY.length >= 32);
    assert.match(body.env.SUPABASE_DB_URL, /^postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a function that fails to load answers 500 MISCONFIGURED, logs one line, and others keep working", async () => {
  const { dir, env: serverEnv } = await withFunctions({
    "broken/index.ts": `import "./missing.ts";\nexport default { fetch: () => new Response("never") };\n`,
    "throws/index.ts": `throw new Error("boom at import");\n`,
    "nofetch/index.ts": `export default {};\n`,
    "fine/index.ts": `export default { fetch: () => new Response("fine") };\n`,
  });
  const server = await startServer(serverEnv);
  try {
    for (const name of ["broken", "throws", "nofetch"]) {
      const res = await fetch(`${server.url}/functions/v1/${name}`);
      assert.equal(res.status, 500, name);
      const body = await errorBody(res);
      assert.equal(body.code, "MISCONFIGURED");
      assert.ok(!JSON.stringify(body).includes("missing.ts"), "no internals in the body");
      const lines = server.output().split("\n").filter((l) => l.includes(`"${name}"`));
      assert.equal(lines.length, 1, `one log line for ${name}:\n${server.output()}`);
    }
    const res = await fetch(`${server.url}/functions/v1/fine`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "fine");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a handler that throws answers 500 INTERNAL without the error text", async () => {
  const { dir, env: serverEnv } = await withFunctions({
    "explode/index.ts": `export default { fetch: () => { throw new Error("secret-detail"); } };\n`,
  });
  const server = await startServer(serverEnv);
  try {
    const res = await fetch(`${server.url}/functions/v1/explode`);
    assert.equal(res.status, 500);
    const text = await res.clone().text();
    assert.equal((await errorBody(res)).code, "INTERNAL");
    assert.ok(!text.includes("secret-detail"));
    assert.ok(!server.output().includes("secret-detail"));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server refuses a busy port with one clear line and a non-zero exit", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: freePort() });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}/scripts/serve.ts`],
      env: { EDGEGUARD_STATE_DIR: stateDir, EDGEGUARD_API_PORT: String(port) },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(out.code, 0);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.match(stderr, new RegExp(`port ${port} is already in use`));
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace:\n${stderr}`);
  } finally {
    listener.close();
  }
});

Deno.test("pg.sh start refuses a busy port with one clear line and a non-zero exit", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: freePort() });
  const state = await Deno.makeTempDir({ prefix: "edgeguard-state-" });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const out = await new Deno.Command("bash", {
      args: [`${root}/scripts/pg.sh`, "start"],
      env: { EDGEGUARD_STATE_DIR: state, EDGEGUARD_DB_PORT: String(port) },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(out.code, 0);
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(stderr, `error: port ${port} is already in use by another process (set EDGEGUARD_DB_PORT or stop it)`);
  } finally {
    listener.close();
    await new Deno.Command("bash", { args: [`${root}/scripts/pg.sh`, "destroy"], env: { EDGEGUARD_STATE_DIR: state } }).output();
    await Deno.remove(state, { recursive: true });
  }
});
