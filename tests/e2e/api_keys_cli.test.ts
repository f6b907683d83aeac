// `edgeguard keys` (crates/edgeguard-cli/src/keys.rs) against the running
// stack: create → use → list → rotate → revoke, over HTTP through the
// api-keys function, as the user whose token it is given.
import * as assert from "./assert.ts";
import { apiUrl, functionsUrl, mintToken, root } from "./stack.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const CUSTOMER = "aaaaaaaa-0000-4000-8000-000000000004";

async function cli(args: string[], token: string) {
  const out = await new Deno.Command("cargo", {
    args: ["run", "-q", "-p", "edgeguard-cli", "--", "keys", ...args, "--url", apiUrl],
    cwd: root,
    env: { EDGEGUARD_TOKEN: token },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

const meWith = (key: string) => fetch(`${functionsUrl}/me`, { headers: { "x-api-key": key } });

Deno.test("edgeguard keys: create, list, rotate, revoke through the api-keys function", async () => {
  const token = await mintToken({
    sub: CUSTOMER, email: "customer@tenant-a.test", user_role: "customer", tenant_id: A,
    permissions: ["orders:write", "public:read", "services:read"],
  });
  const created = await cli(["create", "--name", "from the cli", "--scopes", "services:read", "--uses", "10"], token);
  assert.equal(created.code, 0, created.stderr);
  const k = JSON.parse(created.stdout) as { id: string; key: string; uses_remaining: number };
  assert.match(k.key, /^egk_test_[0-9A-Za-z]{38}$/);
  assert.equal(k.uses_remaining, 10);
  const used = await meWith(k.key);
  assert.equal(used.status, 200, await used.text());

  const listed = await cli(["list"], token);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok((JSON.parse(listed.stdout).keys as { id: string }[]).some((x) => x.id === k.id), "listed");
  assert.ok(!listed.stdout.includes(k.key), "the listing has no plaintext");

  const rotated = await cli(["rotate", k.id, "--overlap", "0"], token);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = JSON.parse(rotated.stdout) as { id: string; key: string };
  const usedFresh = await meWith(fresh.key);
  assert.equal(usedFresh.status, 200, await usedFresh.text());
  const old = await meWith(k.key);
  assert.equal(old.status, 401, "overlap 0: the old key is revoked at once");
  await old.body?.cancel();

  const revoked = await cli(["revoke", fresh.id], token);
  assert.equal(`${revoked.code} ${revoked.stdout.trim()}`, '0 {"ok":true}', revoked.stderr);
  await new Promise((r) => setTimeout(r, 1100));
  const after = await meWith(fresh.key);
  assert.equal(after.status, 401);
  await after.body?.cancel();

  // refusals: the function's error, exit 1; usage errors, exit 2; plain http to a remote host refused
  const again = await cli(["revoke", fresh.id], await mintToken({ sub: crypto.randomUUID() }));
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /HTTP 404/);
  const usage = await cli(["create", "--name", "x"], token);
  assert.equal(usage.code, 2);
  const remote = await new Deno.Command("cargo", {
    args: ["run", "-q", "-p", "edgeguard-cli", "--", "keys", "list", "--url", "http://example.com", "--token", token],
    cwd: root, stdout: "piped", stderr: "piped",
  }).output();
  assert.equal(remote.code, 2);
  assert.match(new TextDecoder().decode(remote.stderr), /must be https/);
});
