// The size of each wasm module, and the budget it must stay under
// (BENCHMARKS.md, "Cold start and footprint"; docs/architecture.md, "The wasm
// boundary"). Measured as scripts/build.sh prints it: raw bytes and `gzip -9`.

/**
 * Gzip -9 bytes each module may take: the size the footprint work reached
 * plus 10 %, so growth is noticed and argued for (raise it in the commit
 * that needs it, saying why).
 */
export const WASM_GZIP_BUDGETS = {
  /** The request pipeline, decoded and compiled by every fresh isolate. */
  edgeguard_wasm: 264_000, // 240 028 B (core at "z" in the pipeline profile, json_read, own `pattern` engine, no f64 Display; docs/architecture.md, "Footprint")
  /** What some handlers call, loaded on first use. */
  edgeguard_handlers: 140_000, // 127 315 B
} as const;

/** The generated modules, by their name in supabase/functions/_shared/wasm/. */
export type WasmModuleName = keyof typeof WASM_GZIP_BUDGETS;

/** Raw and `gzip -9` bytes of the module given as its base64 text (the generated JSON module). */
export async function measureWasmSize(base64: string): Promise<{ raw: number; gzip: number }> {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const gzip = new Deno.Command("gzip", { args: ["-9c"], stdin: "piped", stdout: "piped" }).spawn();
  const output = gzip.output(); // read while writing: the pipe holds less than the module
  const writer = gzip.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const out = await output;
  if (!out.success) throw new Error("gzip -9 failed");
  return { raw: bytes.length, gzip: out.stdout.length };
}
