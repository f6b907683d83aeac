import { readHeaderValues } from "./read_header_values.ts";
import { loadWasm } from "../runtime/load_wasm.ts";
import { eq } from "../test_assert.ts";

Deno.test("readHeaderValues: one line per name, absent as NUL, names case-insensitive", () => {
  const h = new Headers({ Authorization: "Bearer x", "x-request-id": "" });
  eq(readHeaderValues(h, ["authorization", "origin", "x-request-id"]), "Bearer x\n\0\n\n");
  eq(readHeaderValues(h, []), "");
});

// The core reads the same request parts through the reader as one header at
// a time: every answer (minus its fresh request id) is the same, and a reader
// whose answer does not split into one value per name is not trusted.
Deno.test("a Guard with the reader decides exactly as one without it", () => {
  const policy = JSON.stringify({
    auth: ["none", "apikey"],
    routes: [{ method: "GET", path: "/x", limits: { exempt: true } }, { method: "POST", path: "/x", csrf: true }],
  });
  const env = JSON.stringify({ APP_ENV: "development", CORS_ORIGINS: "https://app.example.com", SECRET_KEY: "k".repeat(40) });
  const w = loadWasm();
  const plain = new w.Guard(policy, env, false);
  const batched = new w.Guard(policy, env, false, readHeaderValues);
  const broken = new w.Guard(policy, env, false, () => "only one line\n");
  const requests = [
    new Request("http://fn/x"),
    new Request("http://fn/x", { headers: { origin: "https://app.example.com", "x-request-id": "abc.1" } }),
    new Request("http://fn/x", { headers: { origin: "https://evil.example", "x-api-key": "egk_test_nope" } }),
    new Request("http://fn/x", { headers: { authorization: "Bearer egk_live_0000", apikey: "sb_publishable_x" } }),
    new Request("http://fn/x", { method: "POST", headers: { origin: "https://app.example.com", cookie: "a=b" } }),
    new Request("http://fn/x", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "x-api-key" },
    }),
  ];
  const strip = (a: Record<string, unknown>) => JSON.stringify({ ...a, request_id: undefined, flow: undefined });
  for (const r of requests) {
    const want = strip(plain.begin(r, undefined, 1_000) as unknown as Record<string, unknown>);
    eq(strip(batched.begin(r, undefined, 1_000) as unknown as Record<string, unknown>), want, `${r.method} ${[...r.headers.keys()]}`);
    eq(strip(broken.begin(r, undefined, 1_000) as unknown as Record<string, unknown>), want, "fallback");
  }
  // The incoming request id is read through the reader too.
  eq(batched.begin(requests[1], undefined, 1_000).request_id, "abc.1");
});
