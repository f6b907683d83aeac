// Recipe "multi-tenant services platform" end to end, over HTTP: tokens
// issued by Clerk (signed here with jose exactly as Clerk's session tokens
// look, v1 and v2 claims; the JWKS served by this test on a free port) next
// to Supabase-issued tokens (the stack's dev keys), against a function server
// started with EDGEGUARD_ISSUERS (docs/issuers.md). Tenant isolation in the
// core and in RLS (which sees the mapped claims), CSRF for the browser's
// cookie requests, the issuer's key rotation, and the denials as security
// events counted in the hourly metrics.
import * as jose from "npm:jose@6.2.17";
import * as assert from "../../tests/e2e/assert.ts";
import { freePort, mintToken, startServer } from "../../tests/e2e/stack.ts";
import { assertError, randomIp } from "../../tests/e2e/probe_support.ts";
import { withDb } from "../../tests/e2e/webhooks_support.ts";

const APP = "https://app.services.test"; // the web app's origin: Clerk's `azp`, a CSRF-trusted origin
const ORG_A = `org_2A${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
const ORG_B = `org_2B${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

/** Clerk's side of the test: RSA keys, the JWKS it serves, and session tokens. */
async function fakeClerk() {
  const keys = [await jose.generateKeyPair("RS256", { extractable: true })];
  const kids = ["ins_key_1"];
  let published = 1; // how many of `keys` the JWKS lists
  let fetches = 0;
  const port = freePort();
  const jwk = async (i: number) => ({ ...(await jose.exportJWK(keys[i].publicKey)), kid: kids[i], alg: "RS256", use: "sig" });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname !== "/.well-known/jwks.json") return new Response("not found", { status: 404 });
    fetches++;
    const list = await Promise.all(keys.slice(0, published).map((_, i) => jwk(i)));
    return Response.json({ keys: list }, { headers: { "cache-control": "public, max-age=600" } });
  });
  const iss = `http://127.0.0.1:${port}`; // Clerk's Frontend API URL (https in production)
  return {
    iss,
    fetches: () => fetches,
    async rotate() {
      keys.push(await jose.generateKeyPair("RS256", { extractable: true }));
      kids.push(`ins_key_${keys.length}`);
      published = keys.length;
      return keys.length - 1;
    },
    publicKey: (i = 0) => keys[i].publicKey,
    /** A session token as Clerk mints it: RS256, kid, 60 s lifetime; `v2` uses the compact `o` claim. */
    async token(sub: string, org: { id: string; role: string; permissions?: string[] } | null, opts: { v2?: boolean; key?: number; claims?: Record<string, unknown> } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const orgClaims = org === null ? {} : opts.v2
        ? { v: 2, o: { id: org.id, rol: org.role.replace(/^org:/, ""), slg: org.id.toLowerCase() } }
        : { org_id: org.id, org_role: org.role, org_slug: org.id.toLowerCase(), org_permissions: org.permissions ?? [] };
      const i = opts.key ?? 0;
      return await new jose.SignJWT({ azp: APP, sid: `sess_${crypto.randomUUID().slice(0, 8)}`, fva: [2, -1], ...orgClaims, ...opts.claims })
        .setProtectedHeader({ alg: "RS256", kid: kids[i], typ: "JWT" })
        .setIssuer(iss).setSubject(sub).setIssuedAt(now).setNotBefore(now - 10).setExpirationTime(now + 60)
        .sign(keys[i].privateKey);
    },
    stop: () => server.shutdown(),
  };
}

/** The one issuer config of the deployment (what EDGEGUARD_ISSUERS holds in production). */
function issuersConfig(iss: string) {
  return {
    clerk: {
      iss,
      jwks_url: `${iss}/.well-known/jwks.json`,
      algorithms: ["RS256"],
      azp: [APP],
      claims: { tenant_id: ["org_id", "o.id"], role: ["org_role", "o.rol"], permissions: ["org_permissions", "public_metadata.permissions"] },
      roles: {
        "org:admin": "admin", admin: "admin", "org:moderator": "moderator", moderator: "moderator",
        "org:provider": "provider", provider: "provider", "org:member": "customer", member: "customer",
      },
      default_role: "guest",
      permission_prefix: "org:",
      cookie: "__session",
    },
  };
}

async function json(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text === "" ? null : JSON.parse(text);
}

Deno.test("services platform: Clerk and Supabase callers side by side", async (t) => {
  const clerk = await fakeClerk();
  // The deployment's settings for this recipe: the issuer, and the web app's origin for CORS with cookies.
  const server = await startServer({
    EDGEGUARD_ISSUERS: JSON.stringify(issuersConfig(clerk.iss)),
    CORS_ORIGINS: APP,
    CORS_ALLOW_CREDENTIALS: "true",
  });
  const base = `${server.url}/functions/v1/services-platform`;
  const call = (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "x-forwarded-for": randomIp(),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const provA = await clerk.token("user_provA", { id: ORG_A, role: "org:provider", permissions: ["org:services:write"] });
  const cust1 = await clerk.token("user_cust1", { id: ORG_A, role: "org:member" });
  const cust2 = await clerk.token("user_cust2", { id: ORG_A, role: "member" }, { v2: true });
  const modA = await clerk.token("user_modA", { id: ORG_A, role: "moderator" }, { v2: true });
  const provB = await clerk.token("user_provB", { id: ORG_B, role: "org:provider" });
  const supabaseTenant = crypto.randomUUID();
  const supabaseProvider = await mintToken({ sub: crypto.randomUUID(), user_role: "provider", tenant_id: supabaseTenant });

  try {
    let serviceId = "";
    await t.step("Clerk tokens are verified with Clerk's keys and mapped (v1 and v2 claims)", async () => {
      const me = await json(await call(provA, "GET", "/me"), 200);
      assert.deepEqual(
        { sub: me.sub, tenant: me.tenant_id, role: me.user_role, issuer: me.issuer },
        { sub: "user_provA", tenant: ORG_A, role: "provider", issuer: "clerk" },
      );
      assert.ok(me.permissions.includes("services:write") && me.permissions.includes("bookings:read"), me.permissions);
      const v2 = await json(await call(modA, "GET", "/me"), 200);
      assert.deepEqual([v2.tenant_id, v2.user_role], [ORG_A, "moderator"]);
      assert.ok(clerk.fetches() >= 1, "the server fetched Clerk's JWKS itself");
      // Supabase Auth's tokens on the same function.
      const sb = await json(await call(supabaseProvider, "GET", "/me"), 200);
      assert.deepEqual([sb.tenant_id, sb.user_role, sb.issuer], [supabaseTenant, "provider", "supabase"]);
    });

    await t.step("providers offer, customers book, RLS shows each their own", async () => {
      serviceId = (await json(await call(provA, "POST", `/${ORG_A}/services`, { title: "Haircut", price_cents: 2500 }), 201)).id;
      const listed = await json(await call(cust1, "GET", `/${ORG_A}/services`), 200);
      assert.deepEqual(listed.map((s: { id: string }) => s.id), [serviceId]);
      await assertError(await call(cust1, "POST", `/${ORG_A}/services`, { title: "x", price_cents: 1 }), 403, "FORBIDDEN");
      await json(await call(cust1, "POST", `/${ORG_A}/bookings`, { service_id: serviceId, note: "one" }), 201);
      await json(await call(cust2, "POST", `/${ORG_A}/bookings`, { service_id: serviceId, note: "two" }), 201);
      const own = await json(await call(cust1, "GET", `/${ORG_A}/bookings`), 200);
      assert.deepEqual(own.map((b: { note: string }) => b.note), ["one"], "a customer sees only their booking");
      const provider = await json(await call(provA, "GET", `/${ORG_A}/bookings`), 200);
      assert.equal(provider.length, 2, "the provider sees the bookings of their service");
      const moderator = await json(await call(modA, "GET", `/${ORG_A}/bookings`), 200);
      assert.equal(moderator.length, 2);
      await assertError(await call(provA, "DELETE", `/${ORG_A}/services/${serviceId}`), 403, "FORBIDDEN");
    });

    await t.step("tenant isolation: another org, a Supabase tenant, the other issuer's routes", async () => {
      await assertError(await call(provB, "GET", `/${ORG_A}/services`), 403, "TENANT_MISMATCH");
      assert.deepEqual(await json(await call(provB, "GET", `/${ORG_B}/services`), 200), []);
      const sbService = (await json(await call(supabaseProvider, "POST", `/${supabaseTenant}/services`, { title: "Audit", price_cents: 9900 }), 201)).id;
      const sbList = await json(await call(supabaseProvider, "GET", `/${supabaseTenant}/services`), 200);
      assert.deepEqual(sbList.map((s: { id: string }) => s.id), [sbService]);
      // A Clerk org whose id equals the Supabase tenant's passes the core's path check, but
      // RLS keys tenants by issuer too: it sees and books nothing of the Supabase tenant.
      const lookalike = await clerk.token("user_look", { id: supabaseTenant, role: "org:admin" });
      assert.deepEqual(await json(await call(lookalike, "GET", `/${supabaseTenant}/services`), 200), []);
      await assertError(await call(lookalike, "POST", `/${supabaseTenant}/bookings`, { service_id: sbService }), 404, "NOT_FOUND");
      // The browser-only route accepts Clerk's tokens only: no downgrade to Supabase's.
      await assertError(await call(supabaseProvider, "GET", "/csrf"), 401, "INVALID_JWT");
    });

    await t.step("RLS and the audit log see the mapped claims, not Clerk's raw ones", async () => {
      await withDb(async (sql) => {
        const [row] = await sql<{ actor_claims: Record<string, unknown>; actor_id: string | null }[]>`
          select actor_claims, actor_id from public.audit_logs
          where table_name = 'services' and operation = 'INSERT' and row_pk ->> 'id' = ${serviceId}`;
        assert.equal(row.actor_id, null, "a Clerk subject is not an auth.users id");
        const c = row.actor_claims;
        assert.deepEqual([c.sub, c.issuer, c.tenant_id, c.user_role, c.role], ["user_provA", "clerk", ORG_A, "provider", "authenticated"]);
        assert.ok(!("org_role" in c) && !("org_permissions" in c), JSON.stringify(c));
      });
    });

    await t.step("the web client's cookie requests need a CSRF token; Bearer requests do not", async () => {
      const cookie = `__session=${cust1}`;
      const browser = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        fetch(`${base}${path}`, {
          method,
          headers: { cookie, origin: APP, "sec-fetch-site": "same-site", "x-forwarded-for": randomIp(), ...(body ? { "content-type": "application/json" } : {}), ...headers },
          body: body ? JSON.stringify(body) : undefined,
        });
      const { token } = await json(await browser("GET", "/csrf"), 200);
      await assertError(await browser("POST", `/${ORG_A}/bookings`, { service_id: serviceId }), 403, "CSRF_FAILED");
      await assertError(await browser("POST", `/${ORG_A}/bookings`, { service_id: serviceId }, { "x-csrf-token": token, origin: "https://evil.example" }), 403, "CSRF_FAILED");
      const other = await json(await call(cust2, "GET", "/csrf"), 200);
      await assertError(await browser("POST", `/${ORG_A}/bookings`, { service_id: serviceId }, { "x-csrf-token": other.token }), 403, "CSRF_FAILED");
      await json(await browser("POST", `/${ORG_A}/bookings`, { service_id: serviceId, note: "cookie" }, { "x-csrf-token": token }), 201);
      // The cookie alone is no credential on a Supabase-only request path: a Supabase token in it is refused.
      const planted = await fetch(`${base}/me`, { headers: { cookie: `__session=${supabaseProvider}`, "x-forwarded-for": randomIp() } });
      await assertError(planted, 401, "INVALID_JWT");
    });

    await t.step("Clerk rotates its keys; foreign keys, HS256 confusion and a foreign azp are refused", async () => {
      const next = await clerk.rotate();
      const before = clerk.fetches();
      const rotated = await clerk.token("user_cust1", { id: ORG_A, role: "org:member" }, { key: next });
      assert.equal((await json(await call(rotated, "GET", "/me"), 200)).sub, "user_cust1");
      assert.equal(clerk.fetches(), before + 1, "one refetch for the new kid");
      const stranger = await jose.generateKeyPair("RS256");
      const forged = await new jose.SignJWT({ azp: APP, org_id: ORG_A, org_role: "org:admin" })
        .setProtectedHeader({ alg: "RS256", kid: "ins_key_1" }).setIssuer(clerk.iss).setSubject("user_evil")
        .setIssuedAt().setExpirationTime("1m").sign(stranger.privateKey);
      await assertError(await call(forged, "GET", "/me"), 401, "INVALID_JWT");
      const spki = new TextEncoder().encode(await jose.exportSPKI(clerk.publicKey()));
      const confused = await new jose.SignJWT({ azp: APP, org_id: ORG_A, org_role: "org:admin" })
        .setProtectedHeader({ alg: "HS256", kid: "ins_key_1" }).setIssuer(clerk.iss).setSubject("user_evil")
        .setIssuedAt().setExpirationTime("1m").sign(spki);
      await assertError(await call(confused, "GET", "/me"), 401, "INVALID_JWT");
      const elsewhere = await clerk.token("user_cust1", { id: ORG_A, role: "org:member" }, { claims: { azp: "https://evil.example" } });
      await assertError(await call(elsewhere, "GET", "/me"), 401, "INVALID_JWT");
    });

    await t.step("denials of Clerk callers are security events, counted in the hourly metrics", async () => {
      const res = await call(provB, "POST", `/${ORG_A}/services`, { title: "x", price_cents: 1 });
      const err = await assertError(res, 403, "TENANT_MISMATCH");
      const route = "POST /services-platform/:tenant_id/services";
      await withDb(async (sql) => {
        let rows: { severity: string; details: { code: string; route: string } }[] = [];
        for (let i = 0; i < 100 && rows.length === 0; i++) { // the guard writes events in the background
          rows = await sql`select severity, details from public.security_events where request_id = ${err.request_id}`;
          if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(rows.length, 1, "the denial is recorded");
        assert.deepEqual([rows[0].severity, rows[0].details.code, rows[0].details.route], ["warning", "TENANT_MISMATCH", route]);
        await sql`select private.refresh_security_metrics()`; // what the scheduler runs
        const [{ n }] = await sql<{ n: number }[]>`select coalesce(sum(events), 0)::int as n
          from private.security_metrics_hourly_rollup
          where hour >= date_trunc('hour', now()) - interval '1 hour' and route = ${route} and code = 'TENANT_MISMATCH'`;
        assert.ok(n >= 1, `hourly metric counts it (${n})`);
      });
    });
  } finally {
    await server.stop();
    await clerk.stop();
  }
});
