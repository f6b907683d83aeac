// The size of the wasm every fresh isolate decodes and compiles, and the
// budget it must stay under (BENCHMARKS.md, "Cold start and footprint").
// Measured as scripts/build.sh prints it: raw bytes and `gzip -9`.

/**
 * Gzip -9 bytes the module may take: the size the footprint work reached
 * plus 10 %, so growth is noticed and argued for (raise it in the commit
 * that needs it, saying why).
 */
export const WASM_GZIP_BUDGET = 522_500;

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
