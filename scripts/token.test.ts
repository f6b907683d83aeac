// `npm run token` (scripts/token.sh → `edgeguard token`): the tokens it
// prints are checked here with jose, independently of the Rust signer.
import * as assert from "../tests/e2e/assert.ts";
import * as jose from "npm:jose@6.2.17";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);

async function npmRunToken(dir: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const o = await new Deno.Command("bash", {
    args: [`${root}/scripts/token.sh`, ...args],
    env: { EDGEGUARD_STATE_DIR: dir, EDGEGUARD_API_PORT: "54999" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { ok: o.success, out: dec.decode(o.stdout).trim(), err: dec.decode(o.stderr) };
}

Deno.test("npm run token: ES256 with the stack's dev key, Supabase-shaped claims", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-token-" });
  try {
    const r = await npmRunToken(dir, [
      "--sub", "11111111-1111-4111-8111-111111111111",
      "--email", "a@b.c",
      "--user-role", "admin",
      "--tenant_id", "22222222-2222-4222-8222-222222222222",
      "--permissions", "users:read, services:write",
      "--exp", "60",
      "--app-metadata", "{\"provider\":\"email\"}",
      "--claim", "note=plain",
    ]);
    assert.ok(r.ok, r.err);
    const keys = JSON.parse(await Deno.readTextFile(`${dir}/keys/dev-keys.json`));
    const header = jose.decodeProtectedHeader(r.out);
    assert.equal(header.alg, "ES256");
    assert.equal(header.kid, keys.private_jwk.kid);
    const { payload } = await jose.jwtVerify(r.out, jose.createLocalJWKSet(keys.jwks), {
      issuer: "http://127.0.0.1:54999/auth/v1",
      audience: "authenticated",
    });
    assert.equal(payload.sub, "11111111-1111-4111-8111-111111111111");
    assert.equal(payload.role, "authenticated");
    assert.equal(payload.aal, "aal1");
    assert.equal(payload.is_anonymous, false);
    assert.equal(payload.email, "a@b.c");
    assert.equal(payload.user_role, "admin");
    assert.equal(payload.tenant_id, "22222222-2222-4222-8222-222222222222");
    assert.deepEqual(payload.permissions, ["users:read", "services:write"]);
    assert.deepEqual(payload.app_metadata, { provider: "email" });
    assert.equal(payload.note, "plain");
    assert.match(String(payload.session_id), /^[0-9a-f-]{36}$/);
    assert.equal(payload.exp! - payload.iat!, 60);

    // The same keys are kept: a second token verifies against the first JWKS.
    const again = await npmRunToken(dir, ["--exp", "-3600"]);
    assert.ok(again.ok, again.err);
    let expired = false;
    try {
      await jose.jwtVerify(again.out, jose.createLocalJWKSet(keys.jwks));
    } catch (e) {
      expired = e instanceof jose.errors.JWTExpired;
    }
    assert.ok(expired, "a negative --exp makes an expired token");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npm run token -- --alg HS256 signs with the stack's legacy JWT_SECRET", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-token-" });
  try {
    const r = await npmRunToken(dir, ["--alg", "HS256", "--sub", "s1"]);
    assert.ok(r.ok, r.err);
    const keys = JSON.parse(await Deno.readTextFile(`${dir}/keys/dev-keys.json`));
    const { payload, protectedHeader } = await jose.jwtVerify(r.out, new TextEncoder().encode(keys.env.JWT_SECRET));
    assert.equal(protectedHeader.alg, "HS256");
    assert.equal(payload.sub, "s1");
    let rejected = false;
    try {
      await jose.jwtVerify(r.out, new TextEncoder().encode("another secret of enough length!!"));
    } catch {
      rejected = true;
    }
    assert.ok(rejected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npm run token refuses bad usage with a message, and --help lists the flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-token-" });
  try {
    for (const [args, part] of [
      [["--sub"], "--sub needs a value"],
      [["--alg", "none"], "--alg is ES256 or HS256"],
      [["--exp", "soon"], "--exp must be seconds"],
      [["stray"], "unexpected argument"],
      [["--claim", "sub=x"], "use --sub"],
    ] as const) {
      const r = await npmRunToken(dir, [...args]);
      assert.ok(!r.ok, `accepted ${args.join(" ")}`);
      assert.ok(r.err.includes(part), `${args.join(" ")}: ${r.err}`);
    }
    const help = await npmRunToken(dir, ["--help"]);
    assert.ok(help.ok, help.err);
    for (const flag of ["--user-role", "--tenant-id", "--permissions", "--alg", "--claim", "--exp"]) {
      assert.ok(help.out.includes(flag), `--help lacks ${flag}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
