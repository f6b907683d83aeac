// checkpointSigner without a database: which environments sign, and what the
// handlers' module says about the key (signing itself: db.test.ts).
import { checkpointSigner } from "./audit_checkpoint.ts";
import { assert, eq } from "../test_assert.ts";

const seed = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

Deno.test("no key outside production: disabled, decided by the pipeline module alone", () => {
  const envs: Record<string, string>[] = [{}, { APP_ENV: "development" }, { APP_ENV: "staging", AUDIT_SIGNING_KEY: "  " }];
  for (const env of envs) {
    eq(checkpointSigner(env).state, "disabled", JSON.stringify(env));
  }
});

Deno.test("a key, or production: wanted; the handlers' module builds it once and judges the key", async () => {
  const good = checkpointSigner({ AUDIT_SIGNING_KEY: seed });
  assert(good.state === "wanted", good.state);
  const [a, b] = await Promise.all([good.ready(), good.ready()]);
  assert(a === b, "built once");
  assert(a.state === "enabled" && a.keyId.length > 0, JSON.stringify(a.state));
  const wanted: Record<string, string>[] = [{ AUDIT_SIGNING_KEY: "short" }, { APP_ENV: "production" }];
  for (const env of wanted) {
    const s = checkpointSigner(env);
    assert(s.state === "wanted", `${JSON.stringify(env)}: ${s.state}`);
    const r = await s.ready();
    assert(r.state === "misconfigured" && r.reason.includes("AUDIT_SIGNING_KEY"), JSON.stringify(r));
    assert(!r.reason.includes("short"), "the value is never shown");
  }
});
