// User API keys end to end (docs/api-keys.md): create → use → rotate (both
// keys in the overlap, the old one refused after) → revoke (refused within a
// second on a second server process) → expiry → uses exhausted → refill; the
// scope ceiling; bad keys refused before any lookup and recorded as security
// events; listings never show a hash or plaintext.
import postgres from "npm:postgres@3.4.9";
import * as assert from "./assert.ts";
import { dbUrl, errorBody, functionsUrl, mintToken, startServer } from "./stack.ts";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const CUSTOMER = "aaaaaaaa-0000-4000-8000-000000000004"; // services:read, orders:write, public:read
const ADMIN = "aaaaaaaa-0000-4000-8000-000000000001";
const PROVIDER = "aaaaaaaa-0000-4000-8000-000000000003";
const KEY_RE = /^egk_test_[0-9A-Za-z]{38}$/;

/** A token as the access-token hook would issue it for a seeded member of tenant A. */
function member(sub: string, role: string, permissions: string[]) {
  return mintToken({ sub, email: `${role}@tenant-a.test`, user_role: role, tenant_id: A, permissions });
}
const customer = () => member(CUSTOMER, "customer", ["orders:write", "public:read", "services:read"]);

interface Created {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  uses_remaining: number | null;
  expires_at: string | null;
  rotated_from: string | null;
}

async function create(token: string, body: unknown): Promise<Created> {
  const res = await fetch(`${functionsUrl}/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  assert.equal(res.headers.get("cache-control"), "no-store");
  return JSON.parse(text) as Created;
}

async function me(key: string, base = functionsUrl, header: "x-api-key" | "bearer" = "x-api-key") {
  const headers: Record<string, string> = header === "x-api-key" ? { "x-api-key": key } : { authorization: `Bearer ${key}` };
  const res = await fetch(`${base}/me`, { headers });
  if (res.status === 200) return { status: 200, body: await res.json() as Record<string, unknown> };
  const body = await errorBody(res) as { code: string; hint?: string };
  return { status: res.status, code: body.code, hint: body.hint };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The documented checksum, computed independently: CRC32 (IEEE) in 6 base62 characters. */
function checksum(body: string): string {
  let c = ~0 >>> 0;
  for (const b of new TextEncoder().encode(body)) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  let n = ~c >>> 0;
  const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = digits[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

Deno.test("create → use (x-api-key and Bearer) as the owner within the key's scopes; listed without secrets", async () => {
  const token = await customer();
  const k = await create(token, { name: "ci deploy", scopes: ["services:read", "orders:write"] });
  assert.match(k.key, KEY_RE);
  assert.ok(k.key.startsWith(k.prefix) && k.prefix.length === 17, k.prefix);
  assert.deepEqual(k.scopes, ["orders:write", "services:read"]);

  for (const header of ["x-api-key", "bearer"] as const) {
    const r = await me(k.key, functionsUrl, header);
    assert.equal(r.status, 200, JSON.stringify(r));
    const body = r.body!;
    assert.equal(body.api_key_id, k.id);
    assert.equal(body.sub, CUSTOMER);
    assert.equal(body.tenant_id, A);
    assert.equal(body.user_role, "customer");
    assert.deepEqual(body.permissions, ["orders:write", "services:read"], "owner ∩ scopes, public:read not among the scopes");
    assert.equal((body.profile as { id: string }).id, CUSTOMER, "database work ran as the owner under RLS");
  }

  const list = await fetch(`${functionsUrl}/api-keys`, { headers: { authorization: `Bearer ${token}` } });
  const text = await list.text();
  assert.equal(list.status, 200, text);
  const mine = (JSON.parse(text).keys as Created[]).find((x) => x.id === k.id);
  assert.ok(mine, "the new key is listed");
  assert.equal(mine.prefix, k.prefix);
  assert.ok(!text.includes(k.key), "the listing never carries the plaintext");
  assert.doesNotMatch(text, /key_hash|[0-9a-f]{64}/, "nor a hash");
  assert.equal((mine as unknown as { last_used_at: string | null }).last_used_at !== null, true, "last use recorded");
  // another member does not see it; the tenant admin does
  const other = await fetch(`${functionsUrl}/api-keys`, {
    headers: { authorization: `Bearer ${await member(PROVIDER, "provider", ["services:write"])}` },
  });
  assert.ok(!(await other.text()).includes(k.id), "another member does not see the key");
  const admin = await fetch(`${functionsUrl}/api-keys`, { headers: { authorization: `Bearer ${await member(ADMIN, "admin", [])}` } });
  assert.ok((await admin.text()).includes(k.id), "the tenant admin sees the tenant's keys");
});

Deno.test("the scope ceiling: a key never gets a scope its creator lacks (core, and SQL for what the token claims)", async () => {
  const res = await fetch(`${functionsUrl}/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${await customer()}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "too much", scopes: ["users:write"] }),
  });
  const body = await errorBody(res) as { code: string; hint?: string };
  assert.equal(`${res.status} ${body.code}`, "403 FORBIDDEN");
  assert.equal(body.hint, "scope users:write exceeds your own permissions");
  // a token claiming a permission the database does not grant the role: the SQL ceiling refuses
  const inflated = await member(CUSTOMER, "customer", ["audit:read"]);
  const res2 = await fetch(`${functionsUrl}/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${inflated}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "inflated", scopes: ["audit:read"] }),
  });
  const body2 = await errorBody(res2);
  assert.equal(`${res2.status} ${body2.code}`, "403 FORBIDDEN", JSON.stringify(body2));
  // malformed bodies
  const res3 = await fetch(`${functionsUrl}/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${await customer()}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "x", scopes: ["services:read"], expires_in_s: 0 }),
  });
  assert.equal(`${res3.status} ${(await errorBody(res3)).code}`, "422 VALIDATION_FAILED");
  // a key cannot create keys
  const k = await create(await customer(), { name: "no keys from keys", scopes: ["services:read"] });
  const res4 = await fetch(`${functionsUrl}/api-keys`, { headers: { "x-api-key": k.key } });
  const body4 = await errorBody(res4) as { code: string; hint?: string };
  assert.equal(`${res4.status} ${body4.code} ${body4.hint}`, "401 INVALID_API_KEY egk_ API keys are not accepted on this route");
});

Deno.test("rotate: both keys work in the overlap, the old one is refused after it", async () => {
  const token = await customer();
  const old = await create(token, { name: "rotating", scopes: ["services:read"] });
  assert.equal((await me(old.key)).status, 200);
  const res = await fetch(`${functionsUrl}/api-keys/${old.id}/rotate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ overlap_s: 2 }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const fresh = JSON.parse(text) as Created & { overlap_s: number };
  assert.match(fresh.key, KEY_RE);
  assert.notEqual(fresh.key, old.key);
  assert.equal(fresh.rotated_from, old.id);
  assert.equal(fresh.overlap_s, 2);
  assert.equal((await me(fresh.key)).status, 200, "the new key works");
  assert.equal((await me(old.key)).status, 200, "the old key works in the overlap");
  await sleep(3100);
  const after = await me(old.key);
  assert.equal(`${after.status} ${after.code} ${after.hint}`, "401 INVALID_API_KEY API key expired");
  assert.equal((await me(fresh.key)).status, 200, "the new key still works");
  // a tenant admin cannot rotate (the new plaintext would be theirs), nor can anyone rotate too long an overlap
  const byAdmin = await fetch(`${functionsUrl}/api-keys/${fresh.id}/rotate`, {
    method: "POST",
    headers: { authorization: `Bearer ${await member(ADMIN, "admin", [])}`, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(`${byAdmin.status} ${(await errorBody(byAdmin)).code}`, "404 NOT_FOUND");
  const tooLong = await fetch(`${functionsUrl}/api-keys/${fresh.id}/rotate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ overlap_s: 7 * 86400 + 1 }),
  });
  assert.equal(`${tooLong.status} ${(await errorBody(tooLong)).code}`, "422 VALIDATION_FAILED");
});

Deno.test("revoke: refused within a second on a second server process (another isolate), audited", async () => {
  const server = await startServer();
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const token = await customer();
    const k = await create(token, { name: "to revoke", scopes: ["services:read"] });
    const second = `${server.url}/functions/v1`;
    assert.equal((await me(k.key, second)).status, 200, "verified (and cached) on the second process");
    // another member cannot revoke it, and learns nothing
    const notYours = await fetch(`${functionsUrl}/api-keys/${k.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${await member(PROVIDER, "provider", ["services:write"])}` },
    });
    assert.equal(`${notYours.status} ${(await errorBody(notYours)).code}`, "404 NOT_FOUND");
    const del = await fetch(`${functionsUrl}/api-keys/${k.id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204, await del.text());
    const revokedAt = Date.now();
    let refused: Awaited<ReturnType<typeof me>> | undefined;
    while (Date.now() - revokedAt < 1500) {
      const r = await me(k.key, second);
      if (r.status !== 200) {
        refused = r;
        break;
      }
      await sleep(50);
    }
    assert.ok(refused, "refused on the second process");
    assert.ok(Date.now() - revokedAt <= 1100, `within a second (${Date.now() - revokedAt} ms)`);
    assert.equal(`${refused.status} ${refused.code} ${refused.hint}`, "401 INVALID_API_KEY API key revoked");
    const [audit] = await sql`select count(*)::int as n from public.audit_logs
      where table_name = 'api_keys' and row_pk ->> 'id' = ${k.id} and operation = 'UPDATE'
        and new_record ->> 'revoked_by' = ${CUSTOMER} and actor_id = ${CUSTOMER}`;
    assert.equal(audit.n, 1, "the revocation is audited with the owner as actor");
  } finally {
    await sql.end();
    await server.stop();
  }
});

Deno.test("expiry, exhausted uses and refill", async () => {
  const token = await customer();
  const expiring = await create(token, { name: "short", scopes: ["services:read"], expires_in_s: 2 });
  assert.equal((await me(expiring.key)).status, 200);
  await sleep(2100);
  const expired = await me(expiring.key);
  assert.equal(`${expired.status} ${expired.code} ${expired.hint}`, "401 INVALID_API_KEY API key expired");

  const counted = await create(token, { name: "two uses", scopes: ["services:read"], uses: 2 });
  assert.equal(counted.uses_remaining, 2);
  assert.equal((await me(counted.key)).status, 200);
  assert.equal((await me(counted.key)).status, 200);
  const out = await me(counted.key);
  assert.equal(`${out.status} ${out.code} ${out.hint}`, "401 INVALID_API_KEY API key has no uses left");

  const refilled = await create(token, { name: "refill", scopes: ["services:read"], refill: { amount: 1, interval_s: 2 } });
  assert.equal(refilled.uses_remaining, 1, "starts full");
  assert.equal((await me(refilled.key)).status, 200);
  assert.equal((await me(refilled.key)).code, "INVALID_API_KEY", "the one use is spent");
  await sleep(2100);
  assert.equal((await me(refilled.key)).status, 200, "refilled after the interval");
  assert.equal((await me(refilled.key)).code, "INVALID_API_KEY");
});

Deno.test("per-key rate limit answers 429 RATE_LIMITED", async () => {
  const k = await create(await customer(), { name: "limited", scopes: ["services:read"], rate_limit: { limit: 2, window_s: 60 } });
  assert.equal((await me(k.key)).status, 200);
  assert.equal((await me(k.key)).status, 200);
  const res = await fetch(`${functionsUrl}/me`, { headers: { "x-api-key": k.key } });
  const body = await errorBody(res) as { code: string; hint?: string };
  assert.equal(`${res.status} ${body.code}`, "429 RATE_LIMITED");
  const hinted = /^API key rate limit reached; retry in (\d+) s$/.exec(body.hint ?? "");
  assert.ok(hinted, body.hint);
  assert.equal(res.headers.get("retry-after"), hinted[1], "Retry-After carries the per-key wait");
});

Deno.test("bad keys: refused with precise hints, no lookup for malformed ones, recorded as security events", async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const k = await create(await customer(), { name: "for typos", scopes: ["services:read"] });
    const typo = k.key.slice(0, 20) + (k.key[20] === "a" ? "b" : "a") + k.key.slice(21);
    assert.equal(checksum(k.key.slice(0, 41)), k.key.slice(41), "the checksum is CRC32 in base62, as documented");
    const relabelled = "egk_live_" + k.key.slice(9);
    const live = "egk_live_" + k.key.slice(9, 41) + checksum("egk_live_" + k.key.slice(9, 41));
    const unknown = await create(await customer(), { name: "deleted", scopes: ["services:read"] });
    await sql`delete from public.api_keys where id = ${unknown.id}`;
    for (const [key, hint] of [
      [typo, "API key checksum does not match (mistyped or not a key)"],
      [relabelled, "API key checksum does not match (mistyped or not a key)"],
      [live, "API key belongs to another environment (egk_live_ keys in production, egk_test_ elsewhere)"],
      ["egk_test_" + "A".repeat(38), "API key checksum does not match (mistyped or not a key)"],
      ["egk_test_short", "API key has the wrong length"],
      [unknown.key, "API key not recognised"],
    ]) {
      const r = await me(key);
      assert.equal(`${r.status} ${r.code} ${r.hint}`, `401 INVALID_API_KEY ${hint}`);
    }
    let recorded = 0;
    for (let i = 0; i < 40 && recorded === 0; i++) {
      const [ev] = await sql`select count(*)::int as n from public.security_events
        where event_type = 'auth_denied' and details ->> 'code' = 'INVALID_API_KEY' and occurred_at > now() - interval '1 minute'`;
      recorded = ev.n;
      if (recorded === 0) await sleep(50);
    }
    assert.ok(recorded >= 1, "refusals are recorded as security events");
    const [leak] = await sql`select count(*)::int as n from public.security_events where details::text like ${"%" + k.key.slice(9, 30) + "%"}`;
    assert.equal(leak.n, 0, "no key material in security events");
  } finally {
    await sql.end();
  }
});
