// The deployment plan's rotation rehearsal (README "4. Rotation"): each secret
// is rotated while clients keep calling, and not one request fails during the
// overlap; after the old secret is retired, what it signed is refused.
//
// A secret change is a redeploy: a new function server starts with the new
// environment, is warmed, takes the traffic, and the old one is stopped once
// its in-flight requests are answered (blue/green, as the platform replaces
// workers after `supabase secrets set`). The signing keys rotate without a
// redeploy, through the JWKS URL.
//
// Every token is signed by jose, every delivery by the providers' SDKs
// (stripe, standardwebhooks); API keys are made by the real api-keys function.
import * as jose from "npm:jose@6.2.17";
import postgres from "npm:postgres@3.4.9";
import * as assert from "../../tests/e2e/assert.ts";
import { jwksServer, type KeyPair, keyPair } from "../../tests/e2e/jwks_support.ts";
import { dbUrl, errorBody, mintToken, root, type ServerProcess, startServer } from "../../tests/e2e/stack.ts";
import { freshSecret, standardHeaders, stripeHeader, uid } from "../../tests/e2e/webhooks_support.ts";

const TENANT_A = "aaaaaaaa-0000-4000-8000-000000000000";
const CUSTOMER = "aaaaaaaa-0000-4000-8000-000000000004"; // seeded member of tenant A
/** Requests sent in each phase of a rotation, at least (a count, not a duration). */
const PER_PHASE = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A functions folder for the rehearsal: the real `api-keys` and `webhooks`
 * functions, and `rotation-probe`, which accepts a user token or a user API
 * key and answers the caller's `sub` (exempt from rate limits: the rehearsal
 * counts credential failures, and sends more than a client would).
 */
async function functionsDir(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-rotation-plan-" });
  const fns = `${dir}/functions`;
  await Deno.mkdir(`${fns}/rotation-probe`, { recursive: true });
  await Deno.symlink(`${root}/supabase/functions/_shared`, `${fns}/_shared`);
  for (const name of ["api-keys", "webhooks"]) {
    await Deno.mkdir(`${fns}/${name}`);
    const url = new URL("file:///");
    url.pathname = `${root}/supabase/functions/${name}/index.ts`;
    await Deno.writeTextFile(`${fns}/${name}/index.ts`, `export { default } from ${JSON.stringify(url.href)};\n`);
  }
  await Deno.writeTextFile(`${fns}/rotation-probe/policy.json`, JSON.stringify({
    auth: ["user", "apikey"],
    audience: "authenticated",
    routes: [{ method: "GET", path: "/rotation-probe", limits: { exempt: true } }],
  }));
  await Deno.writeTextFile(`${fns}/rotation-probe/index.ts`, `import { guard } from "../_shared/guard.ts";
import policy from "./policy.json" with { type: "json" };
export default { fetch: guard(policy, (_req, { identity }) => Response.json({ sub: identity.sub })) };
`);
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    ["rotation-probe", "api-keys", "webhooks"].map((f) => `[functions.${f}]\nverify_jwt = false\n`).join("\n"),
  );
  return { dir, env: { EDGEGUARD_FUNCTIONS_DIR: fns, EDGEGUARD_CONFIG: `${dir}/config.toml`, EDGEGUARD_QUIET: "1" } };
}

/** One deployment: the server taking traffic now, replaced by `redeploy`. */
class Deployment {
  #current: ServerProcess;
  #inflight = new Map<ServerProcess, number>();
  readonly servers: ServerProcess[] = [];

  private constructor(first: ServerProcess) {
    this.#current = first;
    this.servers.push(first);
  }

  static async start(env: Record<string, string>, warm: (url: string) => Promise<void>): Promise<Deployment> {
    const s = await startServer(env);
    await warm(s.url);
    return new Deployment(s);
  }

  get url(): string {
    return this.#current.url;
  }

  /** Sends one request to the current server, counted in flight until answered. */
  async call<T>(send: (url: string) => Promise<T>): Promise<T> {
    const s = this.#current;
    this.#inflight.set(s, (this.#inflight.get(s) ?? 0) + 1);
    try {
      return await send(s.url);
    } finally {
      this.#inflight.set(s, (this.#inflight.get(s) ?? 1) - 1);
    }
  }

  /** Starts a server with `env`, warms it, switches traffic to it, drains and stops the old one. */
  async redeploy(env: Record<string, string>, warm: (url: string) => Promise<void>): Promise<void> {
    const next = await startServer(env);
    this.servers.push(next);
    await warm(next.url);
    const old = this.#current;
    this.#current = next;
    while ((this.#inflight.get(old) ?? 0) > 0) await sleep(5);
    await old.stop();
  }

  async stop(): Promise<void> {
    for (const s of this.servers) await s.stop();
  }
}

/**
 * Clients calling without pause, `lanes` at a time, until stopped. `send`
 * answers null for a correct answer, else what was wrong; every request and
 * every failure is counted.
 */
function traffic(lanes: number, send: () => Promise<string | null>) {
  const state = { sent: 0, failures: [] as string[], running: true };
  const inflight = new Set<number>();
  const lane = async () => {
    while (state.running) {
      const seq = ++state.sent;
      inflight.add(seq);
      try {
        const wrong = await send();
        if (wrong) state.failures.push(wrong);
      } catch (e) {
        state.failures.push(`request failed: ${e instanceof Error ? e.message : e}`);
      } finally {
        inflight.delete(seq);
      }
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, lane));
  /** Waits for `ready`; a stall of 2 minutes is a failure, not a hang. */
  const until = async (ready: () => boolean, what: string) => {
    const giveUp = Date.now() + 120_000;
    while (!ready()) {
      if (Date.now() > giveUp) {
        state.failures.push(`stalled: ${what}`);
        return;
      }
      await sleep(5);
    }
  };
  return {
    state,
    until,
    /** Waits until `n` more requests have been sent. */
    more(n: number) {
      const target = state.sent + n;
      return until(() => state.sent >= target || !state.running, `${n} more requests after ${state.sent}`);
    },
    /** Waits until every request sent so far is answered (later ones may be under way). */
    settled() {
      const mark = state.sent;
      return until(() => ![...inflight].some((seq) => seq <= mark), `requests up to ${mark} answered`);
    },
    async stop() {
      state.running = false;
      await done;
    },
  };
}

/** A probe answer: 200 with `sub`, else the failure. */
async function probeAnswer(res: Response, sub: string | undefined, what: string): Promise<string | null> {
  if (res.status !== 200) {
    const body = await res.text();
    return `${what}: ${res.status} ${body}`;
  }
  const body = await res.json() as { sub?: string };
  return sub === undefined || body.sub === sub ? null : `${what}: sub ${body.sub}, expected ${sub}`;
}

Deno.test("rotation rehearsal: JWT signing keys (standby in the JWKS, rotate, revoke)", async () => {
  // The JWKS is served with the shortest max-age the core accepts (30 s), so
  // "wait until every function's cache has it" takes one max-age here.
  const jwks = jwksServer(30);
  const run = crypto.randomUUID().slice(0, 8);
  const a = await keyPair(`plan-a-${run}`);
  const b = await keyPair(`plan-b-${run}`);
  jwks.state.keys = [a.jwk];
  const issued = (k: KeyPair, sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ aud: "authenticated", sub, role: "authenticated", is_anonymous: false, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: k.kid })
      .sign(k.privateKey);
  };
  const subA = crypto.randomUUID();
  const subB = crypto.randomUUID();
  const tokenA = await issued(a, subA); // a session that began before the rotation
  const { dir, env } = await functionsDir();
  const server = await startServer({ ...env, SUPABASE_JWKS: "", SUPABASE_JWKS_URL: jwks.url });
  const probe = (token: string) =>
    fetch(`${server.url}/functions/v1/rotation-probe`, { headers: { authorization: `Bearer ${token}` } });
  // before/standby: only A signs. rotated: new sessions get B tokens while A
  // sessions continue. revoked: every client holds a B token.
  let phase: "before" | "standby" | "rotated" | "revoked" = "before";
  let n = 0;
  const clients = traffic(2, async () => {
    const useB = phase === "revoked" || (phase === "rotated" && n++ % 2 === 0);
    const res = await probe(useB ? await issued(b, subB) : tokenA);
    return await probeAnswer(res, useB ? subB : subA, `${phase}, ${useB ? "B" : "A"} token`);
  });
  /** Waits until the running server has fetched the JWKS again (its cached copy expired). */
  const refreshed = async () => {
    const seen = jwks.state.fetches;
    await clients.until(() => jwks.state.fetches > seen, "the JWKS cache to expire and be refetched");
  };
  try {
    await clients.more(PER_PHASE);
    jwks.state.keys = [a.jwk, b.jwk]; // B added as standby
    phase = "standby";
    await refreshed(); // every cache has B before anything is signed with it
    await clients.more(PER_PHASE);
    phase = "rotated"; // B signs new tokens; A tokens stay valid until they expire
    await clients.more(PER_PHASE);
    phase = "revoked"; // the last A session has ended
    await clients.settled();
    jwks.state.keys = [b.jwk]; // A revoked
    await refreshed();
    await clients.more(PER_PHASE);
    await clients.stop();
    assert.deepEqual(clients.state.failures, [], `failed requests during the rotation (${clients.state.sent} sent)`);
    assert.ok(clients.state.sent >= 4 * PER_PHASE, `${clients.state.sent} requests sent`);

    const refused = await probe(tokenA);
    assert.equal(`${refused.status} ${(await errorBody(refused)).code}`, "401 INVALID_JWT", "a token of the revoked key");
    assert.equal(await probeAnswer(await probe(await issued(b, subB)), subB, "B after"), null);
  } finally {
    await clients.stop();
    await server.stop();
    await jwks.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotation rehearsal: webhook secrets (Stripe and Standard Webhooks lists, old and new in the overlap)", async () => {
  const old = { stripe: freshSecret.stripe(), standard: freshSecret.standard() };
  const next = { stripe: freshSecret.stripe(), standard: freshSecret.standard() };
  const { dir, env } = await functionsDir();
  const only = (s: typeof old) => ({ ...env, STRIPE_WEBHOOK_SECRET: s.stripe, STANDARD_WEBHOOK_SECRET: `v1,${s.standard}` });
  // docs/environment.md: several secrets at once, the new one first.
  const both = {
    ...env,
    STRIPE_WEBHOOK_SECRET: `${next.stripe},${old.stripe}`,
    STANDARD_WEBHOOK_SECRET: `v1,${next.standard} v1,${old.standard}`,
  };
  /** One delivery of each provider signed with `s`; null when both are accepted. */
  const deliver = async (url: string, s: typeof old, what: string): Promise<string | null> => {
    const event = JSON.stringify({ id: uid("evt_"), type: "rotation.rehearsal" });
    const r1 = await fetch(`${url}/functions/v1/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": await stripeHeader(event, s.stripe) },
      body: event,
    });
    const standard = JSON.stringify({ type: "rotation.rehearsal", n: uid("n") });
    const r2 = await fetch(`${url}/functions/v1/webhooks/standard`, {
      method: "POST",
      headers: { "content-type": "application/json", ...standardHeaders(standard, s.standard) },
      body: standard,
    });
    const [t1, t2] = [await r1.text(), await r2.text()];
    if (r1.status !== 200) return `${what}, stripe: ${r1.status} ${t1}`;
    if (r2.status !== 200) return `${what}, standard: ${r2.status} ${t2}`;
    return null;
  };
  const warmWith = (s: typeof old) => async (url: string) => assert.equal(await deliver(url, s, "warm-up"), null);
  const deployment = await Deployment.start(only(old), warmWith(old));
  // The provider signs with the old secret, then (after the switch in its
  // dashboard) with the new one; deliveries already signed with the old
  // secret (retries) still arrive during the overlap.
  let phase: "before" | "overlap" | "switched" | "after" = "before";
  let n = 0;
  const clients = traffic(2, () => {
    const useNew = phase === "switched" || phase === "after" || (phase === "overlap" && n++ % 2 === 0);
    return deployment.call((url) => deliver(url, useNew ? next : old, `${phase}, ${useNew ? "new" : "old"} secret`));
  });
  try {
    await clients.more(PER_PHASE);
    await deployment.redeploy(both, async (url) => {
      assert.equal(await deliver(url, old, "warm-up old"), null);
      assert.equal(await deliver(url, next, "warm-up new"), null);
    });
    phase = "overlap";
    await clients.more(PER_PHASE);
    phase = "switched";
    await clients.settled(); // no delivery signed with the old secret is under way
    await clients.more(PER_PHASE);
    await deployment.redeploy(only(next), warmWith(next)); // the old secret dropped
    phase = "after";
    await clients.more(PER_PHASE);
    await clients.stop();
    assert.deepEqual(clients.state.failures, [], `failed deliveries during the rotation (${clients.state.sent} sent)`);
    assert.ok(clients.state.sent >= 4 * PER_PHASE, `${clients.state.sent} deliveries sent`);

    const refused = await deliver(deployment.url, old, "old secret after");
    assert.ok(refused?.includes("401") && refused.includes("INVALID_SIGNATURE"), `old secret after: ${refused}`);
  } finally {
    await clients.stop();
    await deployment.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotation rehearsal: the API-key pepper (SECRET_KEY_PREVIOUS, re-hash on use, then removed)", async () => {
  const pepper = () => jose.base64url.encode(crypto.getRandomValues(new Uint8Array(48)));
  const p1 = pepper();
  const p2 = pepper();
  const { dir, env } = await functionsDir();
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const probe = (url: string, key: string) => fetch(`${url}/functions/v1/rotation-probe`, { headers: { "x-api-key": key } });
  const token = await mintToken({
    sub: CUSTOMER,
    email: "customer@tenant-a.test",
    user_role: "customer",
    tenant_id: TENANT_A,
    permissions: ["orders:write", "public:read", "services:read"],
  });
  const create = async (url: string, name: string) => {
    const res = await fetch(`${url}/functions/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name, scopes: ["services:read"] }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return JSON.parse(text) as { id: string; key: string };
  };
  const hashOf = async (id: string) => (await sql`select key_hash from public.api_keys where id = ${id}`)[0]?.key_hash as string;
  let used: { id: string; key: string } | undefined;
  const warm = async (url: string) => {
    if (used) assert.equal(await probeAnswer(await probe(url, used.key), CUSTOMER, "warm-up"), null);
  };
  const deployment = await Deployment.start({ ...env, SECRET_KEY: p1, SECRET_KEY_PREVIOUS: "" }, warm);
  let clients: ReturnType<typeof traffic> | undefined;
  try {
    used = await create(deployment.url, "rotation-used"); // a script calls with it all along
    const idle = await create(deployment.url, "rotation-idle"); // never used in the window
    const underP1 = await hashOf(used.id);
    const idleUnderP1 = await hashOf(idle.id);
    const key = used.key;
    clients = traffic(2, async () => {
      const res = await deployment.call((url) => probe(url, key));
      return await probeAnswer(res, CUSTOMER, "API key");
    });
    await clients.more(PER_PHASE);
    // docs/api-keys.md step 1: the old pepper becomes SECRET_KEY_PREVIOUS, in one change.
    await deployment.redeploy({ ...env, SECRET_KEY: p2, SECRET_KEY_PREVIOUS: p1 }, warm);
    await clients.more(PER_PHASE);
    // Step 2: the key in use was found by its previous hash and re-hashed with the new pepper.
    const underP2 = await hashOf(used.id);
    assert.notEqual(underP2, underP1, "the used key is re-hashed during the window");
    assert.equal(await hashOf(idle.id), idleUnderP1, "an unused key keeps its old hash");
    const fresh = await create(deployment.url, "rotation-new"); // new keys use the new pepper
    // Step 3: SECRET_KEY_PREVIOUS removed.
    await deployment.redeploy({ ...env, SECRET_KEY: p2, SECRET_KEY_PREVIOUS: "" }, warm);
    await clients.more(PER_PHASE);
    await clients.stop();
    assert.deepEqual(clients.state.failures, [], `failed requests during the rotation (${clients.state.sent} sent)`);
    assert.ok(clients.state.sent >= 3 * PER_PHASE, `${clients.state.sent} requests sent`);

    assert.equal(await probeAnswer(await probe(deployment.url, fresh.key), CUSTOMER, "key made in the window"), null);
    const refused = await probe(deployment.url, idle.key);
    assert.equal(
      `${refused.status} ${(await errorBody(refused)).code}`,
      "401 INVALID_API_KEY",
      "a key never used in the window stops working",
    );
  } finally {
    await clients?.stop();
    await deployment.stop();
    await sql.end();
    await Deno.remove(dir, { recursive: true });
  }
});
