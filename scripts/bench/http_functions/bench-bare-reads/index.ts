// No guard, but the JavaScript work `guard()` does around the wasm: an async
// handler that reads the request as the shim does (method, URL, the headers
// the core asks for, the peer address) and sets edgeguard's response headers
// one by one on the handler's Response, as _shared/http/apply_headers.ts does.
// What is left between this and bench-edgeguard is the guard's own work.
const headers: [string, string][] = JSON.parse(Deno.env.get("EDGEGUARD_BENCH_HEADERS") ?? "[]");
// The headers `guard()` reads for bench-edgeguard's policy
// (crates/edgeguard-core/src/guard/mod.rs, ALWAYS_READ, and the client-IP header).
const READ = ["authorization", "apikey", "x-api-key", "origin", "x-request-id", "content-type", "x-forwarded-for"];

export default {
  fetch: async (req: Request, info?: { remoteAddr?: { hostname?: string } }) => {
    let n = req.method.length + req.url.length + (info?.remoteAddr?.hostname?.length ?? 0);
    for (const name of READ) n += req.headers.get(name)?.length ?? 0;
    const res = await Promise.resolve(new Response(n > 0 ? "ok" : "ok"));
    for (const [name, value] of headers) res.headers.set(name, value);
    res.headers.set("x-request-id", crypto.randomUUID());
    return res;
  },
};
