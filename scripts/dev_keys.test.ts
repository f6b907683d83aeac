import * as assert from "../tests/e2e/assert.ts";
import { ensureDevKeys } from "./dev_keys.ts";

Deno.test("dev keys are created once and kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-keys-" });
  try {
    await ensureDevKeys(dir);
    const first = await Deno.readTextFile(`${dir}/keys/dev-keys.json`);
    await ensureDevKeys(dir);
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
