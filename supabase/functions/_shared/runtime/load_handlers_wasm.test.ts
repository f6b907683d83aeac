import { loadHandlersWasm } from "./load_handlers_wasm.ts";
import { loadWasm } from "./load_wasm.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("loadHandlersWasm instantiates the handlers' module once, built with the pipeline's version", async () => {
  const [first, second] = await Promise.all([loadHandlersWasm(), loadHandlersWasm()]);
  assert(first === second, "one instance");
  assert(first === await loadHandlersWasm(), "the same instance later");
  eq(first.version(), loadWasm().version(), "both modules come from one build");
});

Deno.test("the handlers' module answers through the core, and the pipeline module no longer carries it", async () => {
  const h = await loadHandlersWasm();
  const refused = JSON.parse(h.apiKeyRotate(new TextEncoder().encode("{nope"), "{}"));
  eq(refused.ok, false, "refused");
  eq(refused.status, 400, "status");
  const pipeline = loadWasm() as unknown as Record<string, unknown>;
  for (const name of ["WebhookVerifier", "AuditSigner", "AlertSender", "ErasureConfirm", "apiKeyCreate", "apiKeyRotate"]) {
    eq(typeof pipeline[name], "undefined", `pipeline module exports ${name}`);
    assert(name in h, `handlers module exports ${name}`);
  }
});
