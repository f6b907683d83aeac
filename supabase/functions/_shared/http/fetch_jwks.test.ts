import { fetchJwks } from "./fetch_jwks.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("fetchJwks: the body and Cache-Control; non-2xx, redirects and oversized documents throw", async () => {
  const big = "x".repeat(5000);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ok") return new Response('{"keys":[]}', { headers: { "cache-control": "max-age=60" } });
    if (path === "/redirect") return Response.redirect("http://127.0.0.1:1/elsewhere", 302);
    if (path === "/big") return new Response(big);
    return new Response("no", { status: 500 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const ok = await fetchJwks(`${base}/ok`, 1000);
    eq(ok.text, '{"keys":[]}');
    eq(ok.cacheControl, "max-age=60");
    for (const path of ["/redirect", "/big", "/fail"]) {
      let threw = false;
      try {
        await fetchJwks(`${base}${path}`, 1000);
      } catch {
        threw = true;
      }
      assert(threw, `${path} throws`);
    }
  } finally {
    await server.shutdown();
  }
});
