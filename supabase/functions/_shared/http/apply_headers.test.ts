import { applyHeaders, type HeaderPairs } from "./apply_headers.ts";
import { loadWasm } from "../runtime/load_wasm.ts";
import { assert, eq } from "../test_assert.ts";
import type { Guard } from "../wasm/edgeguard_wasm.js";

const guardOf = (policy: Record<string, unknown> = {}): Guard =>
  new (loadWasm().Guard)(
    JSON.stringify({ auth: ["none"], routes: [{ method: "GET", path: "/x" }], ...policy }),
    JSON.stringify({ CORS_ORIGINS: "https://app.example.com" }),
    false,
  );
const req = (origin?: string) => new Request("http://fn/x", { headers: origin ? { origin } : {} });
/** The core's header set for `r`'s Origin (what guard() applies), applied to `res`. */
const applySecurityHeaders = (res: Response, g: Guard, r: Request, id: string, extra: HeaderPairs = []) =>
  applyHeaders(res, g.begin(r, undefined, Date.now()).response, extra, id);

Deno.test("OWASP defaults on any response; X-XSS-Protection is 0, not 1; mode=block", () => {
  const res = applySecurityHeaders(new Response("x", { headers: { server: "deno", "x-powered-by": "me" } }), guardOf(), req(), "rid");
  const expect: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-xss-protection": "0",
    "cache-control": "no-store",
    "x-request-id": "rid",
  };
  for (const [k, v] of Object.entries(expect)) eq(res.headers.get(k), v, k);
  assert((res.headers.get("permissions-policy") ?? "").includes("camera=()"), "permissions-policy");
  assert(!res.headers.has("server") && !res.headers.has("x-powered-by"), "stack headers dropped");
});

Deno.test("CORS headers only for an allowed origin; Vary merged with the handler's", () => {
  const h = guardOf();
  const ok = applySecurityHeaders(new Response("x", { headers: { vary: "Accept-Encoding" } }), h, req("https://app.example.com"), "r");
  eq(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
  eq(ok.headers.get("vary"), "Accept-Encoding, Origin");
  const no = applySecurityHeaders(new Response("x"), h, req("https://evil.example"), "r");
  assert(!no.headers.has("access-control-allow-origin"), "no allow header");
  eq(no.headers.get("vary"), "Origin");
});

Deno.test("per-function overrides and extra (RateLimit) headers; immutable responses are copied", async () => {
  const h = guardOf({ headers: { set: { "Cache-Control": "public, max-age=60" }, remove: ["Cross-Origin-Embedder-Policy"] } });
  const fetched = Response.redirect("http://fn/elsewhere", 302); // immutable headers
  const res = applySecurityHeaders(fetched, h, req(), "r", [["RateLimit", '"a";r=1;t=2']]);
  eq(res.status, 302);
  eq(res.headers.get("cache-control"), "public, max-age=60");
  assert(!res.headers.has("cross-origin-embedder-policy"), "removed by policy");
  eq(res.headers.get("ratelimit"), '"a";r=1;t=2');
  const body = applySecurityHeaders(new Response("hello"), h, req(), "r");
  eq(await body.text(), "hello", "body passes through");
});

Deno.test("a handler's mutable Response gets the headers in place; the same headers as a copy would", () => {
  const h = guardOf();
  const mine = new Response("x", { status: 201, headers: { "content-type": "text/plain" } });
  const out = applySecurityHeaders(mine, h, req("https://app.example.com"), "r1", [["RateLimit", '"a";r=1;t=2']]);
  assert(out === mine, "no copy needed");
  eq(out.status, 201);
  eq(out.headers.get("content-type"), "text/plain");
  eq(out.headers.get("x-content-type-options"), "nosniff");
  eq(out.headers.get("access-control-allow-origin"), "https://app.example.com");
  eq(out.headers.get("ratelimit"), '"a";r=1;t=2');
  eq(out.headers.get("x-request-id"), "r1");
  const copy = applySecurityHeaders(Response.redirect("http://fn/x", 302), h, req("https://app.example.com"), "r1", [["RateLimit", '"a";r=1;t=2']]);
  const names = (r: Response) => [...r.headers.keys()].filter((n) => n !== "location" && n !== "content-type").join(",");
  eq(names(copy), names(out), "immutable response copied, same header set");
});
