// guard()'s I/O loop for keys from a URL: real wasm, a real JWKS endpoint on
// loopback, tokens made with jose. What the core decides about each key is
// tested natively (crates/edgeguard-core/tests/pipeline_steps.rs); here: the
// loop fetches what the core names, as often as it asks, and no more.
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { guard } from "./guard.ts";
import { assert, eq } from "./test_assert.ts";

const policy = {
  auth: ["user"],
  limits: { classes: { standard: [{ name: "ip", by: ["ip"], limit: 1000, window_s: 60 }] } },
  routes: [
    { method: "GET", path: "/me" },
    { method: "POST", path: "/b", tenant: { from: "body", name: "tenant_id" } },
    { method: "GET", path: "/h", tenant: { from: "header", name: "x-tenant-id" } },
  ],
};

async function key(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const sign = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ role: "authenticated", tenant_id: "t1", ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setSubject("user-1")
      .setAudience("authenticated")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  return { jwk, sign };
}

// A JWKS server whose key set the test swaps; counts fetches.
function jwksServer(initial: unknown[], body?: string) {
  const state = { keys: initial, fetches: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    state.fetches++;
    if (body !== undefined) return new Response(body);
    return Response.json({ keys: state.keys }, { headers: { "cache-control": "max-age=300" } });
  });
  const url = `http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`;
  return { state, url, close: () => server.shutdown() };
}

let ip = 0;
const req = (path: string, token?: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  new Request(`http://localhost${path}`, {
    ...init,
    headers: { "x-forwarded-for": `198.51.100.${++ip % 250}`, ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
  });

async function answer(res: Response) {
  return { status: res.status, body: await res.json() };
}

Deno.test("guard: fetches the JWKS once, refetches once on a new kid, no fetch storm", async () => {
  const a = await key("a");
  const b = await key("b");
  const srv = jwksServer([a.jwk]);
  try {
    const fetch = guard(policy, (_req, ctx) => Response.json(ctx.identity), {
      env: { SUPABASE_JWKS_URL: srv.url, APP_ENV: "development" },
    });
    const ok = await answer(await fetch(req("/me", await a.sign())));
    eq(ok.status, 200, JSON.stringify(ok.body));
    eq(ok.body.sub, "user-1");
    eq(srv.state.fetches, 1);
    await (await fetch(req("/me", await a.sign()))).body?.cancel();
    eq(srv.state.fetches, 1, "fresh keys are not refetched");

    // Rotation: b appears at the endpoint; the unknown kid triggers one refetch and succeeds.
    srv.state.keys = [b.jwk];
    eq((await answer(await fetch(req("/me", await b.sign())))).status, 200);
    eq(srv.state.fetches, 2);
    const old = await answer(await fetch(req("/me", await a.sign())));
    eq(old.body.code, "INVALID_JWT");
    eq(srv.state.fetches, 2, "unknown-kid refetches are rate limited");

    // An attacker's unknown kids cause no fetch storm.
    const evil = await key("evil");
    for (let i = 0; i < 5; i++) {
      const d = await answer(await fetch(req("/me", await evil.sign())));
      eq(d.body.hint, "unknown kid");
    }
    eq(srv.state.fetches, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("guard: the identity is frozen and shared by requests with the same token, not across tokens", async () => {
  const a = await key("a");
  const srv = jwksServer([a.jwk]);
  try {
    const seen: unknown[] = [];
    const fetch = guard(policy, (_req, ctx) => {
      seen.push(ctx.identity);
      return new Response("ok");
    }, { env: { SUPABASE_JWKS_URL: srv.url, APP_ENV: "development" } });
    const t1 = await a.sign();
    const t2 = await a.sign({ session_id: "other" });
    for (const t of [t1, t1, t2]) await (await fetch(req("/me", t))).body?.cancel();
    eq(seen.length, 3);
    assert(seen[0] === seen[1], "same token: the same frozen object");
    assert(seen[0] !== seen[2], "another token: another object");
    assert(Object.isFrozen(seen[0]) && Object.isFrozen((seen[0] as { claims: object }).claims), "deeply frozen");
  } finally {
    await srv.close();
  }
});

Deno.test("guard: a tenant header reaches the core; a body tenant is compared after the body checks", async () => {
  const a = await key("a");
  const srv = jwksServer([a.jwk]);
  try {
    const fetch = guard(policy, () => new Response("ok"), { env: { SUPABASE_JWKS_URL: srv.url, APP_ENV: "development" } });
    const t = await a.sign();
    eq((await fetch(req("/h", t, { headers: { "x-tenant-id": "t1" } }))).status, 200);
    eq((await answer(await fetch(req("/h", t, { headers: { "x-tenant-id": "t2" } })))).body.code, "TENANT_MISMATCH");
    const post = (tenant: string) =>
      req("/b", t, { method: "POST", body: JSON.stringify({ tenant_id: tenant }), headers: { "content-type": "application/json" } });
    eq((await fetch(post("t1"))).status, 200);
    eq((await answer(await fetch(post("t2")))).body.code, "TENANT_MISMATCH");
  } finally {
    await srv.close();
  }
});

Deno.test("guard: a JWKS larger than the core's limit is refused unread past it; with no keys at all the answer is MISCONFIGURED, never the caller's fault", async () => {
  const a = await key("a");
  const srv = jwksServer([], JSON.stringify({ keys: [a.jwk], pad: "x".repeat(2 * 1024 * 1024) }));
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    const fetch = guard(policy, () => new Response("ok"), { env: { SUPABASE_JWKS_URL: srv.url, APP_ENV: "development" } });
    const res = await answer(await fetch(req("/me", await a.sign())));
    eq(res.status, 500, JSON.stringify(res.body));
    eq(res.body.code, "MISCONFIGURED");
    assert(lines.some((l) => l.includes("JWKS fetch failed") && l.includes("larger than")), lines.join("\n"));
  } finally {
    console.error = orig;
    await srv.close();
  }
});
