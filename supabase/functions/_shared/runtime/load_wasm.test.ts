import { loadWasm } from "./load_wasm.ts";

function assertEquals(actual: unknown, expected: unknown) {
  if (actual !== expected) throw new Error(`expected ${expected}, got ${actual}`);
}

Deno.test("loadWasm instantiates the embedded module once and reports the crate version", () => {
  const first = loadWasm();
  const second = loadWasm();
  assertEquals(first, second);
  const version = first.version();
  if (!/^\d+\.\d+\.\d+/.test(version)) throw new Error(`not a version: ${version}`);
});

Deno.test("the wasm maps SPEC error codes to their statuses", () => {
  const wasm = loadWasm();
  assertEquals(wasm.errorStatus("INVALID_JWT"), 401);
  assertEquals(wasm.errorStatus("TENANT_MISMATCH"), 403);
  assertEquals(wasm.errorStatus("RATE_LIMITED"), 429);
  assertEquals(wasm.errorStatus("UNAVAILABLE"), 503);
  assertEquals(wasm.errorStatus("NOT_A_CODE"), 500);
});
