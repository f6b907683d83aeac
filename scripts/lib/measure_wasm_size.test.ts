import * as assert from "../../tests/e2e/assert.ts";
import WASM_BASE64 from "../../supabase/functions/_shared/wasm/edgeguard_wasm_bytes.json" with { type: "json" };
import { measureWasmSize, WASM_GZIP_BUDGET } from "./measure_wasm_size.ts";

Deno.test("the built wasm stays within its gzip budget", async () => {
  const { raw, gzip } = await measureWasmSize(WASM_BASE64);
  assert.ok(raw > 0 && gzip > 0 && gzip < raw, `raw ${raw}, gzip ${gzip}`);
  assert.ok(
    gzip <= WASM_GZIP_BUDGET,
    `wasm is ${gzip} B gzip, over its budget of ${WASM_GZIP_BUDGET} B (scripts/lib/measure_wasm_size.ts)`,
  );
});

Deno.test("measureWasmSize counts the decoded bytes", async () => {
  const bytes = new Uint8Array(4096).map((_, i) => i % 7);
  const { raw, gzip } = await measureWasmSize(btoa(String.fromCharCode(...bytes)));
  assert.equal(raw, 4096);
  assert.ok(gzip < 200, `repetitive bytes compress: ${gzip}`);
});
