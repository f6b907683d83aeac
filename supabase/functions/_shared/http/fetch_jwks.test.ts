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

/** A JWKS endpoint that counts its requests and answers after `delayMs`. */
function serveJwks(body: string, delayMs: number, cacheControl = "max-age=120") {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    hits++;
    await new Promise((r) => setTimeout(r, delayMs));
    return new Response(body, { headers: { "cache-control": cacheControl } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/jwks.json`, hits: () => hits, close: () => server.shutdown() };
}

Deno.test("requests for the same URL while a fetch is under way share it", async () => {
  const s = serveJwks('{"keys":[]}', 100);
  try {
    const [a, b, c] = await Promise.all([fetchJwks(s.url, 1024), fetchJwks(s.url, 1024), fetchJwks(s.url, 1024)]);
    eq(s.hits(), 1, "one request to the endpoint");
    eq(a.text, '{"keys":[]}');
    assert(a === b && b === c, "the same answer for all three");
    eq(a.cacheControl, "max-age=120");
    await fetchJwks(s.url, 1024);
    eq(s.hits(), 2, "a later call fetches again");
  } finally {
    await s.close();
  }
});

Deno.test("a failed fetch is shared too, and the next call tries again", async () => {
  const s = serveJwks("x".repeat(2048), 50);
  try {
    const results = await Promise.allSettled([fetchJwks(s.url, 1024), fetchJwks(s.url, 1024)]);
    assert(results.every((r) => r.status === "rejected"), "a document over the limit is refused");
    eq(s.hits(), 1);
    await fetchJwks(s.url, 4096);
    eq(s.hits(), 2, "the failure is not cached");
  } finally {
    await s.close();
  }
});
