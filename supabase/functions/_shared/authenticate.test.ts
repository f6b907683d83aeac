// authenticate(): real wasm Gate, a real JWKS endpoint on loopback, tokens made with jose.
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@6.2.17";
import { authenticate, checkBodyTenant } from "./authenticate.ts";
import { loadWasm } from "./load_wasm.ts";
import { assert, eq } from "./test_assert.ts";

const policy = {
  auth: ["user"],
  routes: [
    { method: "GET", path: "/me" },
    { method: "GET", path: "/t", tenant: { from: "query", name: "tenant" } },
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
function jwksServer(initial: unknown[]) {
  const state = { keys: initial, fetches: 0, down: false };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    state.fetches++;
    if (state.down) return new Response("down", { status: 503 });
    return Response.json({ keys: state.keys }, { headers: { "cache-control": "max-age=300" } });
  });
  const url = `http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`;
  return { state, url, close: () => server.shutdown() };
}

const get = (path: string, token?: string, extra: Record<string, string> = {}) =>
  new Request(`http://localhost${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
  });

Deno.test("authenticate: fetches the JWKS once, refetches once on a new kid, no fetch storm", async () => {
  const a = await key("a");
  const b = await key("b");
  const srv = jwksServer([a.jwk]);
  try {
    const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS_URL: srv.url }));
    eq(gate.jwksUrl(), srv.url);
    const ok = await authenticate(gate, get("/me", await a.sign()));
    assert(ok.ok, JSON.stringify(ok));
    eq(ok.ok && ok.identity.sub, "user-1");
    eq(srv.state.fetches, 1);
    await authenticate(gate, get("/me", await a.sign()));
    eq(srv.state.fetches, 1, "fresh keys are not refetched");

    // Rotation: b appears at the endpoint; the unknown kid triggers one refetch and succeeds.
    srv.state.keys = [b.jwk];
    const rotated = await authenticate(gate, get("/me", await b.sign()));
    assert(rotated.ok, JSON.stringify(rotated));
    eq(srv.state.fetches, 2);
    const old = await authenticate(gate, get("/me", await a.sign()));
    eq(old.ok ? "" : old.code, "INVALID_JWT");
    eq(srv.state.fetches, 2, "unknown-kid refetches are rate limited");

    // An attacker's unknown kids cause no fetch storm.
    const evil = await key("evil");
    for (let i = 0; i < 5; i++) {
      const d = await authenticate(gate, get("/me", await evil.sign()));
      eq(d.ok ? "" : d.reason, "unknown kid");
    }
    eq(srv.state.fetches, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("authenticate: hands query and tenant header to the core; a body tenant is left to checkBodyTenant", async () => {
  const a = await key("a");
  const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS: JSON.stringify({ keys: [a.jwk] }) }));
  const t = await a.sign();
  eq((await authenticate(gate, get("/t?tenant=t1", t))).ok, true);
  const other = await authenticate(gate, get("/t?tenant=t2", t));
  eq(other.ok ? "" : other.code, "TENANT_MISMATCH");
  eq((await authenticate(gate, get("/h", t, { "x-tenant-id": "t1" }))).ok, true);
  const h2 = await authenticate(gate, get("/h", t, { "x-tenant-id": "t9" }));
  eq(h2.ok ? "" : h2.code, "TENANT_MISMATCH");
  const post = await authenticate(gate, new Request("http://localhost/b", { method: "POST", headers: { authorization: `Bearer ${t}` } }));
  assert(post.ok, "credentials pass before the body is read");
  eq(post.tenant_check, "body");
  eq(checkBodyTenant(gate, post.route, post.identity, { tenant_id: "t1" }).ok, true);
  const b2 = checkBodyTenant(gate, post.route, post.identity, { tenant_id: "t2" });
  eq(b2.ok ? "" : b2.code, "TENANT_MISMATCH");
  const b3 = checkBodyTenant(gate, post.route, post.identity, null);
  eq(b3.ok ? "" : b3.reason, "body is not a JSON object (it must name the tenant in \"tenant_id\")");
  const me = await authenticate(gate, get("/me", t));
  assert(me.ok && me.tenant_check === undefined, "nothing pending on a route without a body tenant");
  const none = await authenticate(gate, get("/me"));
  eq(none.ok ? "" : none.code, "MISSING_CREDENTIALS");
});

Deno.test("authenticate: no keys at all is MISCONFIGURED, never the caller's fault", async () => {
  const a = await key("a");
  const srv = jwksServer([]);
  srv.state.down = true;
  try {
    const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS_URL: srv.url }));
    const d = await authenticate(gate, get("/me", await a.sign()));
    eq(d.ok ? "" : d.code, "MISCONFIGURED");
  } finally {
    await srv.close();
  }
});

Deno.test("checkParts (the shim's path) answers exactly what check answers for the same request", async () => {
  const k = await key("parts");
  const env = { SUPABASE_URL: "http://127.0.0.1:1", SUPABASE_JWKS: JSON.stringify({ keys: [k.jwk] }), APP_ENV: "development" };
  const wasm = loadWasm();
  const a = new wasm.Gate(JSON.stringify(policy), JSON.stringify(env));
  const b = new wasm.Gate(JSON.stringify(policy), JSON.stringify(env));
  const good = await k.sign();
  const anon = await k.sign({ is_anonymous: true });
  const cases: { method: string; path: string; query: string; headers: Record<string, string> }[] = [
    { method: "GET", path: "/me", query: "", headers: { authorization: `Bearer ${good}` } },
    { method: "get", path: "/me", query: "", headers: { authorization: `Bearer ${anon}` } },
    { method: "GET", path: "/me", query: "", headers: {} },
    { method: "GET", path: "/me", query: "", headers: { authorization: "Basic abc" } },
    { method: "GET", path: "/me", query: "", headers: { apikey: "sb_publishable_x" } },
    { method: "GET", path: "/me", query: "", headers: { authorization: `Bearer ${good}x` } },
    { method: "GET", path: "/t", query: "tenant=t1", headers: { authorization: `Bearer ${good}` } },
    { method: "GET", path: "/t", query: "tenant=t2", headers: { authorization: `Bearer ${good}` } },
    { method: "GET", path: "/h", query: "", headers: { authorization: `Bearer ${good}`, "x-tenant-id": "t1" } },
    { method: "GET", path: "/h", query: "", headers: { authorization: `Bearer ${good}`, "x-tenant-id": "t9" } },
    { method: "POST", path: "/b", query: "", headers: { authorization: `Bearer ${good}` } },
    { method: "DELETE", path: "/me", query: "", headers: { authorization: `Bearer ${good}` } },
    { method: "GET", path: "/nope", query: "", headers: { authorization: `Bearer ${good}` } },
  ];
  const now = Date.now();
  for (const c of cases) {
    const viaJson = a.check(JSON.stringify(c), now);
    const { authorization, apikey, "x-api-key": xApiKey, ...rest } = c.headers as Record<string, string | undefined>;
    const viaParts = b.checkParts(c.method, c.path, c.query, authorization, apikey, xApiKey, JSON.stringify(rest), now);
    // checkParts names a verified token's identity by key; expanded, the bytes are check's.
    const key = viaParts.match(/"identity_key":(\d+)\}$/);
    const expanded = key ? viaParts.replace(`"identity_key":${key[1]}`, `"identity":${b.identityJson()}`) : viaParts;
    eq(expanded, viaJson, `${c.method} ${c.path} ${JSON.stringify(Object.keys(c.headers))}`);
  }
  const refusals = [b.checkParts("GET", "/me", "", undefined, undefined, undefined, "[1]", now)];
  for (const r of refusals) eq(JSON.parse(r).code, "INTERNAL", r);
});

Deno.test("authenticate: a tenant header without the x- prefix reaches the core; other headers do not", async () => {
  const a = await key("a");
  const named = { auth: ["user"], routes: [{ method: "GET", path: "/h", tenant: { from: "header", name: "Tenant" } }] };
  const gate = new (loadWasm().Gate)(JSON.stringify(named), JSON.stringify({ SUPABASE_JWKS: JSON.stringify({ keys: [a.jwk] }) }));
  eq(gate.tenantHeaderNames(), '["tenant"]');
  const t = await a.sign();
  eq((await authenticate(gate, get("/h", t, { tenant: "t1" }))).ok, true);
  const other = await authenticate(gate, get("/h", t, { tenant: "t2", "x-tenant-id": "t1" }));
  eq(other.ok ? "" : other.code, "TENANT_MISMATCH");
});

Deno.test("authenticate: an allow is answered synchronously, frozen, and shared only by the same token", async () => {
  const a = await key("a");
  const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS: JSON.stringify({ keys: [a.jwk] }) }));
  const t1 = await a.sign();
  const t2 = await a.sign({ email: "two@example.com" });
  const sync = (token: string) => {
    const d = authenticate(gate, get("/me", token));
    if (d instanceof Promise) throw new Error("inline keys: the decision must not wait for a microtask");
    return d;
  };
  const first = sync(t1);
  const again = sync(t1);
  const other = sync(t2);
  assert(first.ok && again.ok && other.ok, "all three allowed");
  assert(first.identity === again.identity, "same token, same frozen identity");
  assert(first.identity !== other.identity, "another token, another identity");
  eq(other.identity.email, "two@example.com");
  assert(Object.isFrozen(first.identity) && Object.isFrozen(first.identity.permissions), "frozen deeply");
  let threw = false;
  try {
    (first.identity as { user_role: string | null }).user_role = "admin";
  } catch {
    threw = true;
  }
  assert(threw && first.identity.user_role !== "admin", "a handler cannot change a shared identity");
  // Denials are never shared: a bad token stays denied, a good one after it is allowed.
  const bad = sync(`${t1}x`);
  assert(!bad.ok && !Object.isFrozen(bad), "a denial is parsed afresh");
  assert(sync(t1).ok, "the good token is still allowed");
});

Deno.test("checkParts: a token keeps its identity key while cached; another token, or the same after a key change, gets a new one", async () => {
  const k = await key("keyed");
  const env = { SUPABASE_JWKS: JSON.stringify({ keys: [k.jwk] }), JWT_SECRET: "x".repeat(40) };
  const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify(env));
  const now = Date.now();
  const ask = (t: string) => JSON.parse(gate.checkParts("GET", "/me", "", `Bearer ${t}`, undefined, undefined, "{}", now));
  const t1 = await k.sign();
  const t2 = await k.sign({ email: "b@example.com" });
  const a = ask(t1);
  const identityA = JSON.parse(gate.identityJson()!);
  const again = ask(t1);
  const b = ask(t2);
  assert(typeof a.identity_key === "number" && !("identity" in a), JSON.stringify(a));
  eq(again.identity_key, a.identity_key);
  assert(b.identity_key !== a.identity_key, "distinct tokens, distinct keys");
  eq(JSON.parse(gate.identityJson()!).email, "b@example.com");
  eq(identityA.sub, "user-1");
  // An API key identity is not a cached token: sent inline, never keyed.
  const apikeyGate = new (loadWasm().Gate)(JSON.stringify({ auth: ["publishable"], routes: [{ method: "GET", path: "/p" }] }), JSON.stringify({ SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc" }));
  const p = JSON.parse(apikeyGate.checkParts("GET", "/p", "", undefined, "sb_publishable_abc", undefined, "{}", now));
  assert(p.ok && p.identity?.kind === "publishable" && !("identity_key" in p), JSON.stringify(p));
  // Rotation: the key set changes, the cache is flushed, the token is verified again under a new key.
  const k2 = await key("keyed-2");
  gate.setJwks(JSON.stringify({ keys: [k.jwk, k2.jwk] }), 600, now);
  const after = ask(t1);
  assert(after.ok && after.identity_key !== a.identity_key && after.identity_key !== b.identity_key, JSON.stringify(after));
});

Deno.test("authenticate: a fetched JWKS larger than the core's limit is refused unread past it; the keys in use stay", async () => {
  const a = await key("a");
  const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS_URL: "http://127.0.0.1:1/x" }));
  eq(gate.jwksMaxBytes(), 64 * 1024);
  // A valid key set, padded past the limit with whitespace (valid JSON all the same).
  const padded = JSON.stringify({ keys: [a.jwk] }) + " ".repeat(gate.jwksMaxBytes());
  let served = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    served++;
    return new Response(padded, { headers: { "content-type": "application/json" } });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`;
    const big = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS_URL: url, APP_ENV: "development" }));
    const d = await authenticate(big, get("/me", await a.sign()));
    eq(served, 1, "fetched once");
    eq(d.ok ? "" : d.code, "MISCONFIGURED", "no key was installed from the oversized document");
    // The same document within the limit is used.
    const exact = JSON.stringify({ keys: [a.jwk] });
    big.setJwks(exact, 600, Date.now());
    eq((await authenticate(big, get("/me", await a.sign()))).ok, true);
  } finally {
    await server.shutdown();
  }
});

Deno.test("authenticate: kept identities are bounded by their JSON bytes, not only by count", async () => {
  const k = await key("big");
  const gate = new (loadWasm().Gate)(JSON.stringify(policy), JSON.stringify({ SUPABASE_JWKS: JSON.stringify({ keys: [k.jwk] }) }));
  const bio = "b".repeat(5_000);
  const first = await k.sign({ user_metadata: { bio } });
  const sync = (t: string) => {
    const d = authenticate(gate, get("/me", t));
    if (d instanceof Promise || !d.ok) throw new Error("expected a synchronous allow");
    return d.identity;
  };
  const keyOf = (t: string) => JSON.parse(gate.checkParts("GET", "/me", "", `Bearer ${t}`, undefined, undefined, "{}", Date.now())).identity_key;
  const one = sync(first);
  assert(one === sync(first), "kept while the budget holds");
  const coreKey = keyOf(first);
  // ~5 KB of JSON each: 500 of them are far below 1024 identities but above 2 MiB.
  for (let i = 0; i < 500; i++) sync(await k.sign({ user_metadata: { bio }, email: `u${i}@example.com` }));
  eq(keyOf(first), coreKey, "the core still caches the token");
  const again = sync(first);
  assert(again !== one, "the byte budget started the shim's map afresh");
  eq(again.sub, one.sub);
});
