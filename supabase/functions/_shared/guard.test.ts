// The guard pipeline in-process: real wasm, a test policy, no database
// (global limits are covered over HTTP in tests/e2e/limits_global.test.ts).
import { guard, type GuardContext } from "./guard.ts";
import { assert, eq, randomSecret as secret } from "./test_assert.ts";

const env = (extra: Record<string, string> = {}) => ({
  APP_ENV: "development",
  CORS_ORIGINS: "https://app.example.com,https://*.example.org",
  CSRF_SECRET: secret(),
  ...extra,
});

const policy = {
  auth: ["none"],
  limits: {
    classes: {
      standard: [{ name: "ip-min", by: ["ip"], limit: 3, window_s: 60 }],
      auth: [{ name: "auth-ip", by: ["ip"], limit: 1, window_s: 60 }],
    },
  },
  body: { max_bytes: 64 },
  routes: [
    {
      method: "GET",
      path: "/t/items/:id",
      params: { id: { type: "string", format: "uuid" } },
      query: { properties: { limit: { type: "integer", maximum: 10 } }, additionalProperties: false },
    },
    {
      method: "POST",
      path: "/t/items",
      body: {
        schema: {
          type: "object",
          required: ["name"],
          properties: { name: { type: "string", maxLength: 8 }, n: { type: "integer" } },
          additionalProperties: false,
        },
      },
    },
    { method: "GET", path: "/t/csrf" },
    {
      method: "POST",
      path: "/t/form",
      csrf: { required: true },
      body: { max_bytes: 1024, content_types: ["application/x-www-form-urlencoded", "application/json"] },
    },
    { method: "GET", path: "/t/boom" },
    { method: "GET", path: "/t/free", limits: { exempt: true } },
    { method: "POST", path: "/t/login", limits: { class: "auth" } },
  ],
};

let calls = 0;
function handler(req: Request, ctx: GuardContext): Response {
  calls++;
  const path = new URL(req.url).pathname;
  if (path === "/t/boom") throw new Error(`boom at /secret/place with ${ctx.requestId}`);
  if (path === "/t/csrf") {
    const t = ctx.csrfToken();
    const res = Response.json({ token: t.token });
    if (t.cookie) res.headers.set("set-cookie", t.cookie);
    return res;
  }
  const res = Response.json({ route: ctx.route, params: ctx.params, body: ctx.body, raw: new TextDecoder().decode(ctx.rawBody) });
  res.headers.set("server", "leaky/1.0");
  return res;
}

const fetchOf = (e = env()) => guard(policy, handler, { env: e });
const fetch1 = fetchOf();
let ipSeq = 0;
const ip = () => `198.51.100.${++ipSeq}`;
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch1(new Request(`http://fn.local${path}`, { headers: { "x-forwarded-for": ip(), ...headers } }));
const post = (path: string, body: BodyInit | null, headers: Record<string, string> = {}) =>
  fetch1(
    new Request(`http://fn.local${path}`, {
      method: "POST",
      body,
      headers: { "x-forwarded-for": ip(), "content-type": "application/json", ...headers },
    }),
  );

function assertHardened(res: Response, what: string) {
  const h = res.headers;
  eq(h.get("x-content-type-options"), "nosniff", what);
  eq(h.get("x-frame-options"), "DENY", what);
  assert((h.get("strict-transport-security") ?? "").startsWith("max-age="), `${what}: HSTS`);
  eq(h.get("content-security-policy"), "default-src 'none'; frame-ancestors 'none'", what);
  eq(h.get("referrer-policy"), "no-referrer", what);
  assert(h.has("permissions-policy"), `${what}: permissions-policy`);
  eq(h.get("x-xss-protection"), "0", what);
  eq(h.get("cross-origin-opener-policy"), "same-origin", what);
  eq(h.get("cross-origin-resource-policy"), "same-origin", what);
  assert(/^[A-Za-z0-9._-]{1,128}$/.test(h.get("x-request-id") ?? ""), `${what}: x-request-id`);
  assert(!h.has("server") && !h.has("x-powered-by"), `${what}: server header dropped`);
  assert((h.get("vary") ?? "").toLowerCase().includes("origin"), `${what}: Vary: Origin`);
}

async function assertError(res: Response, status: number, code: string) {
  eq(res.status, status, code);
  assertHardened(res, code);
  eq(res.headers.get("content-type"), "application/json", code);
  const body = await res.json();
  eq(body.code, code, "code");
  eq(body.request_id, res.headers.get("x-request-id"), "request_id matches the header");
  assert(typeof body.message === "string" && body.message.length > 0, "message");
  return body;
}

const uuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

Deno.test("success: security headers, RateLimit headers, x-request-id, parsed params", async () => {
  const res = await get(`/t/items/${uuid}?limit=5`);
  eq(res.status, 200);
  assertHardened(res, "200");
  eq(res.headers.get("ratelimit-policy"), '"ip-min";q=3;w=60');
  eq(res.headers.get("ratelimit"), '"ip-min";r=2;t=20');
  assert(!res.headers.has("retry-after"), "no Retry-After on success");
  const body = await res.json();
  eq(body.route, "GET /t/items/:id");
  eq(body.params.id, uuid);
});

Deno.test("a well-formed x-request-id is echoed, a malformed one replaced", async () => {
  eq((await get("/t/free", { "x-request-id": "trace-42.a_b" })).headers.get("x-request-id"), "trace-42.a_b");
  const r = await get("/t/free", { "x-request-id": "bad id\twith spaces" });
  assert(r.headers.get("x-request-id") !== "bad id\twith spaces", "replaced");
});

Deno.test("exact in-isolate limit: N pass, N+1 is 429 with Retry-After and RateLimit headers", async () => {
  const addr = ip();
  const hit = () => fetch1(new Request(`http://fn.local/t/items/${uuid}`, { headers: { "x-forwarded-for": addr } }));
  for (let i = 0; i < 3; i++) eq((await hit()).status, 200, `request ${i + 1}`);
  const before = calls;
  const res = await hit();
  const body = await assertError(res, 429, "RATE_LIMITED");
  eq(calls, before, "the handler did not run");
  eq(res.headers.get("retry-after"), "20");
  eq(res.headers.get("ratelimit"), '"ip-min";r=0;t=60');
  assert(!JSON.stringify(body).includes(addr), "the IP is not echoed");
  // another client is unaffected; the exempt route never limits
  eq((await get(`/t/items/${uuid}`)).status, 200, "other IP");
  for (let i = 0; i < 10; i++) {
    const free = await fetch1(new Request("http://fn.local/t/free", { headers: { "x-forwarded-for": addr } }));
    eq(free.status, 200, "exempt route");
    assert(!free.headers.has("ratelimit"), "no RateLimit headers on an exempt route");
  }
});

Deno.test("the auth class limits a route separately (1/min)", async () => {
  const addr = ip();
  const login = () => fetch1(new Request("http://fn.local/t/login", { method: "POST", headers: { "x-forwarded-for": addr } }));
  eq((await login()).status, 200);
  await assertError(await login(), 429, "RATE_LIMITED");
});

Deno.test("404 and 405 carry the SPEC body and every header", async () => {
  await assertError(await get("/t/nope"), 404, "NOT_FOUND");
  await assertError(await post("/t/csrf", "{}"), 405, "METHOD_NOT_ALLOWED");
});

Deno.test("CORS: allowed origin gets allow headers, others none; preflight never runs the handler", async () => {
  const ok = await get("/t/free", { origin: "https://app.example.com" });
  eq(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
  const sub = await get("/t/free", { origin: "https://shop.example.org" });
  eq(sub.headers.get("access-control-allow-origin"), "https://shop.example.org");
  for (const origin of ["https://evil.example", "https://a.b.example.org", "null", "https://example.org"]) {
    const r = await get("/t/free", { origin });
    eq(r.status, 200);
    assert(!r.headers.has("access-control-allow-origin"), `${origin}: no allow header`);
  }
  const before = calls;
  const pre = (origin: string, method = "POST") =>
    fetch1(new Request("http://fn.local/t/items", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": method, "access-control-request-headers": "content-type" },
    }));
  const good = await pre("https://app.example.com");
  eq(good.status, 204);
  eq(good.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert((good.headers.get("access-control-allow-methods") ?? "").includes("POST"), "allow-methods");
  assertHardened(good, "preflight");
  const bad = await pre("https://evil.example");
  await assertError(bad, 403, "ORIGIN_NOT_ALLOWED");
  assert(!bad.headers.has("access-control-allow-origin"), "no allow header on a refused preflight");
  eq(calls, before, "the handler never ran for preflights");
});

Deno.test("body: 415, 400, 422 with field paths, 413", async () => {
  await assertError(await post("/t/items", '{"name":"a"}', { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  await assertError(await post("/t/items", '{"name":', {}), 400, "INVALID_BODY");
  await assertError(await post("/t/items", '{"name":"a","name":"b"}', {}), 400, "INVALID_BODY");
  const v = await assertError(await post("/t/items", '{"name":123,"n":1.5,"x":1}', {}), 422, "VALIDATION_FAILED");
  const paths = (v.details as { path: string }[]).map((d) => d.path).sort();
  eq(JSON.stringify(paths), JSON.stringify(["/n", "/name", "/x"]), "field paths");
  const { request_id: _id, ...answer } = v; // a random id may contain "123" by chance
  assert(!JSON.stringify(answer).includes("123"), "values are not echoed");
  await assertError(await post("/t/items", JSON.stringify({ name: "x".repeat(100) }), {}), 413, "PAYLOAD_TOO_LARGE");
  const ok = await post("/t/items", '{"name":"ab","n":2}', {});
  eq(ok.status, 200);
  const echoed = await ok.json();
  eq(echoed.raw, '{"name":"ab","n":2}', "ctx.rawBody is the exact bytes");
  const got = echoed.body;
  assert(got.name === "ab" && got.n === 2 && Object.keys(got).length === 2, "ctx.body is the parsed value");
});

Deno.test("413 while streaming: the guard stops reading at the limit", async () => {
  let pulled = 0;
  const chunk = new Uint8Array(16).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      if (pulled > 1_000_000) c.close(); // never reached: the guard cancels first
      else c.enqueue(chunk);
    },
  });
  const res = await post("/t/items", stream, {});
  await assertError(res, 413, "PAYLOAD_TOO_LARGE");
  assert(pulled < 100, `stopped after ${pulled} chunks of 16 bytes (limit 64)`);
});

Deno.test("query and path parameters: 422 with /params and /query paths", async () => {
  const a = await assertError(await get("/t/items/not-a-uuid"), 422, "VALIDATION_FAILED");
  eq((a.details as { path: string }[])[0].path, "/params/id");
  const b = await assertError(await get(`/t/items/${uuid}?limit=50`), 422, "VALIDATION_FAILED");
  eq((b.details as { path: string }[])[0].path, "/query/limit");
  await assertError(await get(`/t/items/${uuid}?other=1`), 422, "VALIDATION_FAILED");
});

Deno.test("a thrown handler error is 500 INTERNAL without its message or stack", async () => {
  const res = await get("/t/boom");
  const body = await assertError(res, 500, "INTERNAL");
  const text = JSON.stringify(body);
  assert(!text.includes("boom") && !text.includes("/secret/place") && !/at .*\(.*:\d+:\d+\)/.test(text), text);
});

Deno.test("CSRF: token + cookie subject pass; missing, foreign, cross-site fail; bearer exempt", async () => {
  const f = (path: string, init: RequestInit = {}) =>
    fetch1(new Request(`http://fn.local${path}`, { ...init, headers: { "x-forwarded-for": ip(), ...init.headers } }));
  const issued = await f("/t/csrf");
  const cookie = (issued.headers.get("set-cookie") ?? "").split(";")[0];
  assert(cookie.startsWith("__Host-edgeguard-csrf="), `cookie ${cookie}`);
  const { token } = await issued.json();
  const form = (headers: Record<string, string>, body = "a=1") =>
    f("/t/form", { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
  eq((await form({ cookie, "x-csrf-token": token, origin: "https://app.example.com" })).status, 200, "header token");
  eq((await form({ cookie }, `a=1&csrf_token=${encodeURIComponent(token)}`)).status, 200, "form field token");
  await assertError(await form({ cookie }), 403, "CSRF_FAILED");
  await assertError(await form({ "x-csrf-token": token }), 403, "CSRF_FAILED"); // no subject cookie
  await assertError(await form({ cookie: "__Host-edgeguard-csrf=other", "x-csrf-token": token }), 403, "CSRF_FAILED");
  await assertError(await form({ cookie, "x-csrf-token": token, origin: "https://evil.example" }), 403, "CSRF_FAILED");
  await assertError(await form({ cookie, "x-csrf-token": token, "sec-fetch-site": "cross-site" }), 403, "CSRF_FAILED");
  await assertError(await form({ cookie, "x-csrf-token": token, origin: "null" }), 403, "CSRF_FAILED");
  eq((await form({ authorization: "Bearer anything" })).status, 200, "bearer requests are exempt");
});

Deno.test("misconfiguration: 500 MISCONFIGURED with headers; production refuses to start", async () => {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  let bad;
  try {
    bad = guard(policy, handler, { env: env({ CSRF_SECRET: "short" }) });
  } finally {
    console.error = orig;
  }
  eq(lines.length, 1, "one log line");
  assert(lines[0].includes("misconfigured") && !lines[0].includes('"short"'), lines[0]);
  const res = await bad(new Request("http://fn.local/t/free"));
  await assertError(res, 500, "MISCONFIGURED");
  for (const e of [env({ CSRF_SECRET: "short", APP_ENV: "production" }), env({ CORS_ORIGINS: "*", APP_ENV: "production" })]) {
    console.error = () => {};
    try {
      let threw = false;
      try {
        guard(policy, handler, { env: e });
      } catch {
        threw = true;
      }
      assert(threw, "production refuses to start");
    } finally {
      console.error = orig;
    }
  }
  console.error = () => {};
  try {
    const badPolicy = guard({ routes: [{ method: "GET", path: "no-slash" }] }, handler, { env: env() });
    await assertError(await badPolicy(new Request("http://fn.local/x")), 500, "MISCONFIGURED");
  } finally {
    console.error = orig;
  }
});

Deno.test("db.ts errors thrown by a handler: unreachable -> 503 UNAVAILABLE, no URL -> 500 MISCONFIGURED, no detail", async () => {
  const { DatabaseMisconfigured, DatabaseUnavailable } = await import("./db/db.ts");
  const probe = { auth: ["none"], routes: [{ method: "GET", path: "/db" }] };
  for (const [error, status, code] of [
    [new DatabaseUnavailable("ECONNREFUSED"), 503, "UNAVAILABLE"],
    [new DatabaseMisconfigured(), 500, "MISCONFIGURED"],
  ] as const) {
    const fetch = guard(probe, () => {
      throw error;
    }, { env: { APP_ENV: "development" } });
    const res = await fetch(new Request("http://localhost/db"));
    eq(res.status, status);
    const body = await res.json();
    eq(body.code, code);
    assert(!JSON.stringify(body).includes("ECONNREFUSED"), "no driver detail");
    assert(res.headers.get("x-request-id") === body.request_id, "request id on the error");
  }
});

Deno.test("deferBodyChecks: an unsigned body is refused as unsigned and never parsed; a signed one is checked when asked", async () => {
  let parsedBeforeVerify = 0;
  // A stand-in for a signature check: the handler verifies `x-signed` before asking for the body.
  const signed = guard(policy, (req, ctx) => {
    if (ctx.body !== undefined) parsedBeforeVerify++;
    if (req.headers.get("x-signed") !== "yes") return Response.json({ code: "INVALID_SIGNATURE" }, { status: 401 });
    return Response.json({ body: ctx.checkBody(), again: ctx.checkBody() });
  }, { env: env(), deferBodyChecks: true });
  const send = (body: string, headers: Record<string, string> = {}) =>
    signed(new Request("http://fn.local/t/items", {
      method: "POST",
      body,
      headers: { "x-forwarded-for": ip(), "content-type": "application/json", ...headers },
    }));
  // Unsigned: malformed JSON, schema violations and a wrong media type all reach the signature check.
  for (const [body, headers] of [['{"name":', {}], ['{"name":123}', {}], ['{"name":"a"}', { "content-type": "text/plain" }]] as const) {
    const res = await send(body, headers);
    eq(res.status, 401, `unsigned ${body}`);
    await res.body?.cancel();
  }
  // Signed: the same refusals as without deferral, raised by ctx.checkBody() inside the handler.
  await assertError(await send('{"name":', { "x-signed": "yes" }), 400, "INVALID_BODY");
  await assertError(await send('{"name":123}', { "x-signed": "yes" }), 422, "VALIDATION_FAILED");
  await assertError(await send('{"name":"a"}', { "x-signed": "yes", "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  const ok = await send('{"name":"ab"}', { "x-signed": "yes" });
  eq(ok.status, 200);
  const got = await ok.json();
  eq(JSON.stringify(got), '{"body":{"name":"ab"},"again":{"name":"ab"}}');
  eq(parsedBeforeVerify, 0, "ctx.body stays undefined under deferral");
  // The size limit still applies while reading, before the handler runs.
  await assertError(await send(JSON.stringify({ name: "x".repeat(100) })), 413, "PAYLOAD_TOO_LARGE");
});

Deno.test("deferBodyChecks does not defer a route that requires CSRF: its body is checked up front", async () => {
  let ran = 0;
  const f = guard(policy, () => {
    ran++;
    return new Response("ok");
  }, { env: env(), deferBodyChecks: true });
  const res = await f(new Request("http://fn.local/t/form", {
    method: "POST",
    body: '{"broken":',
    headers: { "x-forwarded-for": ip(), "content-type": "application/json", origin: "https://app.example.com" },
  }));
  eq(res.status, 400);
  eq((await res.json()).code, "INVALID_BODY");
  eq(ran, 0, "the handler never ran");
});

// A route whose tenant is a top-level body field (docs/policy.md): the core
// checks credentials before the body is read and the body's tenant after the
// body checks, before the handler.
const bodyTenantPolicy = {
  auth: ["user"],
  routes: [
    {
      method: "POST",
      path: "/t/orders",
      tenant: { from: "body", name: "tenant_id" },
      body: { schema: { type: "object", properties: { n: { type: "integer" } } } },
    },
  ],
};
const JWT_SECRET = secret();

async function hsToken(claims: Record<string, unknown>): Promise<string> {
  const enc = (v: unknown) =>
    btoa(JSON.stringify(v)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const input = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({
    sub: "user-1",
    role: "authenticated",
    aud: "authenticated",
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...claims,
  })}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(JWT_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${btoa(String.fromCharCode(...sig)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`;
}

/** A request body that notes whether anyone pulled a byte from it. */
function watchedBody(text: string): { body: ReadableStream<Uint8Array>; read: () => boolean } {
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled = true;
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  }, { highWaterMark: 0 }); // no eager pull: only a reader pulls
  return { body, read: () => pulled };
}

for (const deferBodyChecks of [false, true]) {
  Deno.test(`body tenant${deferBodyChecks ? " (deferBodyChecks: checked up front all the same)" : ""}: credentials before the body, the tenant field before the handler`, async () => {
    let ran = 0;
    const f = guard(bodyTenantPolicy, (_req, ctx) => {
      ran++;
      return Response.json({ body: ctx.body, checked: ctx.checkBody(), tenant: ctx.identity.tenant_id });
    }, { env: env({ JWT_SECRET }), deferBodyChecks });
    const t1 = await hsToken({ tenant_id: "t1" });
    const send = (text: string, token?: string) => {
      const w = watchedBody(text);
      const res = f(new Request("http://fn.local/t/orders", {
        method: "POST",
        body: w.body,
        headers: { "x-forwarded-for": ip(), "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      }));
      return res.then((r) => ({ res: r, read: w.read() }));
    };

    const ok = await send('{"tenant_id":"t1","n":1}', t1);
    eq(ok.res.status, 200, "same tenant");
    eq(ok.read, true, "an authenticated caller's body is read");
    eq(JSON.stringify(await ok.res.json()), '{"body":{"n":1,"tenant_id":"t1"},"checked":{"n":1,"tenant_id":"t1"},"tenant":"t1"}');

    const refusals: [string, string | undefined, number, string, string][] = [
      ['{"tenant_id":"t2"}', t1, 403, "TENANT_MISMATCH", "another tenant"],
      ['{"n":1}', t1, 403, "TENANT_MISMATCH", 'body field "tenant_id" is missing'],
      ['{"tenant_id":1}', t1, 403, "TENANT_MISMATCH", 'body field "tenant_id" is not a string'],
      ['{"tenant_id":"t1"}', await hsToken({}), 403, "TENANT_MISMATCH", "token has no tenant_id"],
      // The body checks come first: a broken body is refused as such.
      ['{"tenant_id":', t1, 400, "INVALID_BODY", ""],
      ['{"tenant_id":"t1","n":"x"}', t1, 422, "VALIDATION_FAILED", ""],
    ];
    for (const [text, token, status, code, hint] of refusals) {
      const r = await send(text, token);
      const body = await assertError(r.res, status, code);
      assert(String(body.hint ?? "").includes(hint), `${text}: hint ${JSON.stringify(body.hint)} lacks ${hint}`);
    }
    eq(ran, 1, "the handler ran only for the same tenant");

    // No credentials, or bad ones: refused before a byte of the body is read.
    for (const token of [undefined, `${t1}x`]) {
      const r = await send('{"tenant_id":"t1"}', token);
      await assertError(r.res, 401, token ? "INVALID_JWT" : "MISSING_CREDENTIALS");
      eq(r.read, false, "the body of an unauthenticated caller is never read");
    }
    eq(ran, 1, "the handler never ran for a refusal");
  });
}
