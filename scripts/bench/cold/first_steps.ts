// Where a fresh isolate's first response goes (profiling aid for
// ../cold_start.ts): one fresh process, the steps of edgeguard's cold path
// timed one by one with performance.now() marks taken here, never in the
// product. The wasm steps are redone by hand before guard.ts is imported
// (wasm-bindgen's initSync does nothing once the module is instantiated), so
// `import guard.ts` then counts only the shims' own modules.
//   deno run -A scripts/bench/cold/first_steps.ts <fixture.json>   (fixture: make_fixture.ts)
// Prints one JSON line of milliseconds.
const [fixturePath] = Deno.args;
const fixture = JSON.parse(Deno.readTextFileSync(fixturePath)) as { env: Record<string, string>; tokens: string[] };
for (const [k, v] of Object.entries(fixture.env)) Deno.env.set(k, v);
const requests = fixture.tokens.slice(0, 3).map((t) =>
  new Request("http://localhost/me", { headers: { authorization: `Bearer ${t}` } })
);
const marks: Record<string, number> = {};
let last = performance.now();
const t0 = last;
const mark = (name: string) => {
  const now = performance.now();
  marks[name] = now - last;
  last = now;
};
const shared = "../../../supabase/functions/_shared";
const glue = await import(`${shared}/wasm/edgeguard_wasm.js`);
mark("import_glue");
const b64 = (await import(`${shared}/wasm/edgeguard_wasm_bytes.json`, { with: { type: "json" } })).default as string;
mark("import_bytes_json");
const bytes = (Uint8Array as unknown as { fromBase64: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64(b64);
mark("decode_base64");
const module = new WebAssembly.Module(bytes);
mark("compile");
glue.initSync({ module });
mark("instantiate");
await import(`${shared}/guard.ts`);
mark("import_shims");
const fn = (await import("./edgeguard_fn.ts")).default as { fetch: (req: Request) => Promise<Response> };
mark("guard_setup");
for (let i = 0; i < requests.length; i++) {
  const res = await fn.fetch(requests[i]);
  await res.text();
  mark(`request_${i + 1}`);
}
const first = Object.entries(marks).filter(([k]) => !k.startsWith("request_") || k === "request_1")
  .reduce((a, [, v]) => a + v, 0);
console.log(JSON.stringify({ wasm_bytes: bytes.length, ...marks, first_response: first }));
