import * as assert from "../tests/e2e/assert.ts";
import * as jose from "npm:jose@6.2.17";
import { mintToken, parseArgs } from "./token.ts";

Deno.test("parseArgs builds Supabase-shaped claims with the custom ones", () => {
  const { claims, alg } = parseArgs([
    "--sub", "11111111-1111-4111-8111-111111111111",
    "--email", "a@b.c",
    "--user_role", "admin",
    "--tenant_id", "22222222-2222-4222-8222-222222222222",
    "--permissions", "users:read, services:write",
    "--exp", "60",
    "--claim", "app_metadata={\"provider\":\"email\"}",
    "--claim", "note=plain",
  ], "http://127.0.0.1:1");
  assert.equal(alg, "ES256");
  assert.equal(claims.iss, "http://127.0.0.1:1/auth/v1");
  assert.equal(claims.aud, "authenticated");
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.sub, "11111111-1111-4111-8111-111111111111");
  assert.deepEqual(claims.permissions, ["users:read", "services:write"]);
  assert.deepEqual(claims.app_metadata, { provider: "email" });
  assert.equal(claims.note, "plain");
  assert.equal((claims.exp as number) - (claims.iat as number), 60);
});

Deno.test("parseArgs rejects a flag without a value and a bad --alg", () => {
  for (const args of [["--sub"], ["--alg", "none"], ["--exp", "soon"], ["stray"]]) {
    let threw = false;
    try {
      parseArgs(args, "http://x");
    } catch {
      threw = true;
    }
    assert.ok(threw, `accepted ${args.join(" ")}`);
  }
});

Deno.test("mintToken signs with the dev ES256 key (kid set) or the HS256 secret", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-keys-" });
  try {
    const es = await mintToken(dir, parseArgs(["--sub", "s1"], "http://x"));
    const keys = JSON.parse(await Deno.readTextFile(`${dir}/keys/dev-keys.json`));
    const header = jose.decodeProtectedHeader(es);
    assert.equal(header.alg, "ES256");
    assert.equal(header.kid, keys.private_jwk.kid);
    const { payload } = await jose.jwtVerify(es, jose.createLocalJWKSet(keys.jwks));
    assert.equal(payload.sub, "s1");

    const hs = await mintToken(dir, parseArgs(["--alg", "HS256"], "http://x"));
    await jose.jwtVerify(hs, new TextEncoder().encode(keys.env.JWT_SECRET));
    let rejected = false;
    try {
      await jose.jwtVerify(hs, new TextEncoder().encode("another secret of enough length!!"));
    } catch {
      rejected = true;
    }
    assert.ok(rejected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dev keys are created once and kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-keys-" });
  try {
    await mintToken(dir, parseArgs([], "http://x"));
    const first = await Deno.readTextFile(`${dir}/keys/dev-keys.json`);
    await mintToken(dir, parseArgs([], "http://x"));
    assert.equal(await Deno.readTextFile(`${dir}/keys/dev-keys.json`), first);
    const keys = JSON.parse(first);
    for (const name of ["SECRET_KEY", "CSRF_SECRET", "JWT_SECRET"]) assert.ok(keys.env[name].length >= 32, name);
    assert.match(keys.env.SUPABASE_PUBLISHABLE_KEY, /^sb_publishable_/);
    assert.match(keys.env.SUPABASE_SECRET_KEY, /^sb_secret_/);
    assert.match(keys.env.STRIPE_WEBHOOK_SECRET, /^whsec_/);
    assert.match(keys.env.STANDARD_WEBHOOK_SECRET, /^v1,whsec_[A-Za-z0-9+/]+=*$/);
    assert.match(keys.env.AUTH_HOOK_SECRET, /^v1,whsec_/);
    assert.match(keys.env.AUDIT_SIGNING_KEY, /^[A-Za-z0-9_-]{43}$/);
    assert.match(keys.env.AUDIT_VERIFY_KEY, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(keys.env.AUDIT_SIGNING_KEY, keys.env.AUDIT_VERIFY_KEY);
    assert.equal((await Deno.stat(`${dir}/keys/dev-keys.json`)).mode! & 0o077, 0, "private key file is owner-only");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
