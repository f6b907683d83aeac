// verify_jwt: the emulated platform gateway in front of the functions. A
// second server process, with its own config.toml, serves the same functions
// against the same database and keys on another port.
import * as assert from "./assert.ts";
import { errorBody, foreignKey, functionsUrl, mintToken, root, startServer } from "./stack.ts";

async function configWith(verifyJwt: Record<string, boolean>): Promise<string> {
  let toml = await Deno.readTextFile(`${root}/supabase/config.toml`);
  for (const [name, value] of Object.entries(verifyJwt)) {
    const section = new RegExp(`(\\[functions\\.${name}\\][^\\[]*?verify_jwt\\s*=\\s*)(true|false)`);
    assert.match(toml, section, `config.toml has [functions.${name}] verify_jwt`);
    toml = toml.replace(section, `$1${value}`);
  }
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(path, toml);
  return path;
}

Deno.test("verify_jwt = true: the gateway rejects before the function, accepts valid project tokens", async (t) => {
  const config = await configWith({ health: true, me: true });
  const server = await startServer({ EDGEGUARD_CONFIG: config });
  try {
    const url = `${server.url}/functions/v1`;

    await t.step("no Authorization header -> 401 MISSING_CREDENTIALS from the gateway", async () => {
      const res = await fetch(`${url}/health`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("x-edgeguard-gateway"), "rejected");
      const body = await errorBody(res);
      assert.equal(body.code, "MISSING_CREDENTIALS");
      assert.equal(res.headers.get("x-request-id"), body.request_id);
    });

    for (const [name, header] of [
      ["not a Bearer token", "Basic dXNlcjpwYXNz"],
      ["a publishable key", "Bearer sb_publishable_abc"],
      ["a token of an unknown key", `Bearer ${await mintToken({}, { signWith: await foreignKey() })}`],
      ["an expired token", `Bearer ${await mintToken({}, { expiresIn: -3600 })}`],
    ]) {
      await t.step(`${name} -> 401 INVALID_JWT from the gateway`, async () => {
        const res = await fetch(`${url}/health`, { headers: { authorization: header } });
        assert.equal(res.status, 401);
        assert.equal(res.headers.get("x-edgeguard-gateway"), "rejected");
        assert.equal((await errorBody(res)).code, "INVALID_JWT");
      });
    }

    await t.step("a valid ES256 token passes to the function", async () => {
      const sub = crypto.randomUUID();
      const res = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${await mintToken({ sub })}` } });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(res.headers.get("x-edgeguard-gateway"), null);
      assert.equal(body.sub, sub);
    });

    await t.step("a valid legacy HS256 token passes to the function", async () => {
      const res = await fetch(`${url}/health`, {
        headers: { authorization: `Bearer ${await mintToken({}, { alg: "HS256" })}` },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    });

    await t.step("OPTIONS preflight is not blocked by the gateway", async () => {
      const res = await fetch(`${url}/me`, { method: "OPTIONS" });
      await res.body?.cancel();
      assert.equal(res.headers.get("x-edgeguard-gateway"), null);
    });

    await t.step("the stack's own server (verify_jwt = false on health) still answers without a token", async () => {
      const res = await fetch(`${functionsUrl}/health`);
      await res.body?.cancel();
      assert.equal(res.status, 200);
    });
  } finally {
    await server.stop();
    await Deno.remove(config);
  }
});

Deno.test("two server processes on different ports serve the same functions with the same keys", async () => {
  const other = await startServer();
  try {
    const sub = crypto.randomUUID();
    const token = await mintToken({ sub });
    for (const base of [functionsUrl, `${other.url}/functions/v1`]) {
      const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.sub, sub);
    }
  } finally {
    await other.stop();
  }
});
