import * as assert from "../../tests/e2e/assert.ts";
import PIPELINE_BASE64 from "../../supabase/functions/_shared/wasm/edgeguard_wasm_bytes.json" with { type: "json" };
import HANDLERS_BASE64 from "../../supabase/functions/_shared/wasm/edgeguard_handlers_bytes.json" with { type: "json" };
import { measureWasmSize, WASM_GZIP_BUDGETS, type WasmModuleName } from "./measure_wasm_size.ts";

const modules: Record<WasmModuleName, string> = { edgeguard_wasm: PIPELINE_BASE64, edgeguard_handlers: HANDLERS_BASE64 };

for (const [name, base64] of Object.entries(modules) as [WasmModuleName, string][]) {
  Deno.test(`the built ${name} wasm stays within its gzip budget`, async () => {
    const { raw, gzip } = await measureWasmSize(base64);
    assert.ok(raw > 0 && gzip > 0 && gzip < raw, `raw ${raw}, gzip ${gzip}`);
    const budget = WASM_GZIP_BUDGETS[name];
    assert.ok(gzip <= budget, `${name} is ${gzip} B gzip, over its budget of ${budget} B (scripts/lib/measure_wasm_size.ts)`);
  });
}

Deno.test("every module scripts/build.sh generates has a budget", async () => {
  const generated: string[] = [];
  for await (const e of Deno.readDir(new URL("../../supabase/functions/_shared/wasm/", import.meta.url))) {
    if (e.name.endsWith("_bytes.json")) generated.push(e.name.slice(0, -"_bytes.json".length));
  }
  assert.equal(generated.sort().join(), Object.keys(WASM_GZIP_BUDGETS).sort().join());
});

Deno.test("measureWasmSize counts the decoded bytes", async () => {
  const bytes = new Uint8Array(4096).map((_, i) => i % 7);
  const { raw, gzip } = await measureWasmSize(btoa(String.fromCharCode(...bytes)));
  assert.equal(raw, 4096);
  assert.ok(gzip < 200, `repetitive bytes compress: ${gzip}`);
});
