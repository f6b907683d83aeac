// Recipe "marketplace back office" end to end, over HTTP against the stack
// `npm test` starts (it serves examples/*/functions and applies
// examples/*/migrations): a user token on every call; customers see their own
// orders, agents their assigned ones, admins all (RLS); the policy's ladder
// admin > agent > customer; rate limits per group (60 / 300 / 1000 per
// minute) with 429 + Retry-After; SPEC error bodies; every write audited;
// product images checked by the core (type by magic bytes, size, file name).
import * as assert from "../../tests/e2e/assert.ts";
import { functionsUrl, mintToken } from "../../tests/e2e/stack.ts";
import { assertError, randomIp } from "../../tests/e2e/probe_support.ts";
import { type Db, withDb } from "../../tests/e2e/webhooks_support.ts";

type Who = "admin" | "agent1" | "agent2" | "customer1" | "customer2";
const ROLE: Record<Who, string> = { admin: "admin", agent1: "agent", agent2: "agent", customer1: "customer", customer2: "customer" };

interface Market {
  tenant: string;
  ids: Record<Who, string>;
  token(who: Who): Promise<string>;
}

/** A fresh tenant with an admin, two agents and two customers (memberships as the access-token hook reads them). */
async function freshMarket(sql: Db): Promise<Market> {
  const tenant = crypto.randomUUID();
  await sql`insert into public.tenants (id, slug, name) values (${tenant}, ${`market-${tenant.slice(0, 8)}`}, 'Market')`;
  const ids = {} as Record<Who, string>;
  for (const who of Object.keys(ROLE) as Who[]) {
    const id = crypto.randomUUID();
    await sql`insert into auth.users (id, aud, role, email) values (${id}, 'authenticated', 'authenticated', ${`${who}-${id}@market.test`})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenant}, ${id}, ${ROLE[who]})`;
    ids[who] = id;
  }
  return {
    tenant,
    ids,
    token: (who) => mintToken({ sub: ids[who], email: `${who}@market.test`, user_role: ROLE[who], tenant_id: tenant }),
  };
}

async function call(m: Market, who: Who | string, method: string, path: string, body?: unknown, ip = randomIp()) {
  const token = who in ROLE ? await m.token(who as Who) : who;
  return await fetch(`${functionsUrl}/marketplace/${m.tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": ip, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function json(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text);
}

/** Places two orders for customer1 and one for customer2; assigns o1 to agent1 and o3 to agent2. */
async function ordersOf(m: Market) {
  const o1 = (await json(await call(m, "customer1", "POST", "/orders", { total_cents: 1000, note: "o1" }), 201)).id;
  const o2 = (await json(await call(m, "customer1", "POST", "/orders", { total_cents: 2000, currency: "USD", note: "o2" }), 201)).id;
  const o3 = (await json(await call(m, "customer2", "POST", "/orders", { total_cents: 3000, note: "o3" }), 201)).id;
  await json(await call(m, "admin", "PUT", `/orders/${o1}/agent`, { agent_id: m.ids.agent1 }), 200);
  await json(await call(m, "admin", "PUT", `/orders/${o3}/agent`, { agent_id: m.ids.agent2 }), 200);
  return { o1, o2, o3 };
}

Deno.test("a valid user token on every route: none, expired or forged → 401 with the SPEC body", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const order = crypto.randomUUID();
    const routes: [string, string, unknown?][] = [
      ["GET", "/orders"], ["GET", `/orders/${order}`], ["POST", "/orders", { total_cents: 1 }],
      ["PATCH", `/orders/${order}`, { status: "paid" }], ["PUT", `/orders/${order}/agent`, { agent_id: null }],
    ];
    const expired = await mintToken({ sub: m.ids.admin, user_role: "admin", tenant_id: m.tenant }, { expiresIn: -600 });
    for (const [method, path, body] of routes) {
      const anonymous = await fetch(`${functionsUrl}/marketplace/${m.tenant}${path}`, {
        method, headers: { "x-forwarded-for": randomIp(), "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await assertError(anonymous, 401, "MISSING_CREDENTIALS");
      await assertError(await call(m, expired, method, path, body), 401, "INVALID_JWT");
      await assertError(await call(m, `${expired.slice(0, -4)}AAAA`, method, path, body), 401, "INVALID_JWT");
    }
  });
});

Deno.test("RLS over HTTP: customers see their own orders, agents their assigned ones, admins all", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const { o1, o2, o3 } = await ordersOf(m);
    const seen = async (who: Who) =>
      (await json(await call(m, who, "GET", "/orders"), 200)).orders.map((o: { note: string }) => o.note).sort().join(",");
    assert.equal(await seen("customer1"), "o1,o2");
    assert.equal(await seen("customer2"), "o3");
    assert.equal(await seen("agent1"), "o1");
    assert.equal(await seen("agent2"), "o3");
    assert.equal(await seen("admin"), "o1,o2,o3");
    const one = await json(await call(m, "customer1", "GET", `/orders/${o2}`), 200);
    assert.deepEqual([one.customer_id, one.total_cents, one.currency, one.status, one.assigned_agent_id], [m.ids.customer1, 2000, "USD", "pending", null]);
    // someone else's order looks exactly like a missing one
    await assertError(await call(m, "customer2", "GET", `/orders/${o1}`), 404, "NOT_FOUND");
    await assertError(await call(m, "agent2", "GET", `/orders/${o1}`), 404, "NOT_FOUND");
    await assertError(await call(m, "agent1", "GET", `/orders/${crypto.randomUUID()}`), 404, "NOT_FOUND");
    // another tenant's admin is refused before any query
    const other = await freshMarket(sql);
    const res = await fetch(`${functionsUrl}/marketplace/${m.tenant}/orders/${o3}`, {
      headers: { authorization: `Bearer ${await other.token("admin")}`, "x-forwarded-for": randomIp() },
    });
    await assertError(res, 403, "TENANT_MISMATCH");
  });
});

Deno.test("the ladder admin > agent > customer: who may update and assign", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const { o1, o2 } = await ordersOf(m);
    await assertError(await call(m, "customer1", "PATCH", `/orders/${o1}`, { status: "refunded" }), 403, "FORBIDDEN");
    await assertError(await call(m, "agent1", "PUT", `/orders/${o1}/agent`, { agent_id: m.ids.agent2 }), 403, "FORBIDDEN");
    await assertError(await call(m, "agent1", "PATCH", `/orders/${o2}`, { status: "shipped" }), 404, "NOT_FOUND");
    const shipped = await json(await call(m, "agent1", "PATCH", `/orders/${o1}`, { status: "shipped", note: "DHL 42" }), 200);
    assert.deepEqual([shipped.status, shipped.note], ["shipped", "DHL 42"]);
    await assertError(await call(m, "admin", "PUT", `/orders/${o2}/agent`, { agent_id: m.ids.customer2 }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "agent1", "PATCH", `/orders/${o1}`, { status: "lost" }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "customer1", "POST", "/orders", { total_cents: -1 }), 422, "VALIDATION_FAILED");
    await assertError(await call(m, "customer1", "POST", "/orders", { total_cents: 1, status: "paid" }), 422, "VALIDATION_FAILED");
    const admin = await json(await call(m, "admin", "PATCH", `/orders/${o2}`, { status: "cancelled" }), 200);
    assert.equal(admin.status, "cancelled", "the admin holds the agent's rights");
  });
});

Deno.test("audit: every write is in audit_logs with its actor and the request id", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const placed = await call(m, "customer1", "POST", "/orders", { total_cents: 1234, note: "audited" });
    const order = (await json(placed, 201)).id;
    const assigned = await call(m, "admin", "PUT", `/orders/${order}/agent`, { agent_id: m.ids.agent1 });
    await json(assigned, 200);
    const paid = await call(m, "agent1", "PATCH", `/orders/${order}`, { status: "paid" });
    await json(paid, 200);
    const rows = await sql`select operation, actor_id, request_id, tenant_id, new_record ->> 'status' as status,
                                  new_record ->> 'assigned_agent_id' as agent
                           from public.audit_logs where table_name = 'orders' and row_pk ->> 'id' = ${order} order by seq`;
    assert.deepEqual(rows.map((r) => [r.operation, r.actor_id, r.request_id, r.tenant_id, r.status, r.agent]), [
      ["INSERT", m.ids.customer1, placed.headers.get("x-request-id"), m.tenant, "pending", null],
      ["UPDATE", m.ids.admin, assigned.headers.get("x-request-id"), m.tenant, "pending", m.ids.agent1],
      ["UPDATE", m.ids.agent1, paid.headers.get("x-request-id"), m.tenant, "paid", m.ids.agent1],
    ]);
    const [chain] = await sql`select * from public.verify_audit_chain(${m.tenant})`;
    assert.equal(chain.valid, true, `the tenant's audit chain verifies: ${JSON.stringify(chain)}`);
  });
});

Deno.test("rate limits per group: customer 60/min, agent 300/min, admin 1000/min → 429 RATE_LIMITED + Retry-After", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    // A burst of n requests at once. A refused query still counts (limits run
    // first) and costs no database round trip.
    const burst = async (who: Who, n: number) => {
      const token = await m.token(who);
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: n }, () => call(m, token, "GET", "/orders?limit=0")));
      const elapsedS = (Date.now() - started) / 1000;
      const limited = responses.filter((r) => r.status === 429);
      for (const r of responses.filter((r) => r.status !== 429)) await r.body?.cancel();
      return { passed: n - limited.length, limited, elapsedS, others: [...new Set(responses.map((r) => r.status))] };
    };
    for (const [who, limit] of [["customer1", 60], ["agent1", 300]] as const) {
      const b = await burst(who, limit + 20);
      assert.deepEqual(b.others.sort(), [422, 429], `${who}: only refused queries and 429s`);
      // GCRA: the burst of `limit`, plus what the window refilled while the burst ran
      const refill = Math.ceil(b.elapsedS * limit / 60);
      assert.ok(b.passed >= limit && b.passed <= limit + refill, `${who}: ${b.passed} admitted, limit ${limit} (+${refill} refilled)`);
      assert.ok(b.limited.length > 0, `${who}: some refused`);
      await assertError(b.limited[0], 429, "RATE_LIMITED");
      for (const r of b.limited.slice(1)) await r.body?.cancel();
      const retryAfter = Number(b.limited[0].headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `${who}: Retry-After ${retryAfter}`);
      assert.match(b.limited[0].headers.get("ratelimit-policy") ?? "", new RegExp(`"group-min";q=${limit};w=60`));
    }
    // the admin's group allows 1000: 320 at once are all served
    const admin = await burst("admin", 320);
    assert.deepEqual([admin.passed, admin.others], [320, [422]]);
    const one = await call(m, "admin", "GET", "/orders");
    await one.body?.cancel();
    assert.equal(one.status, 200);
    assert.match(one.headers.get("ratelimit-policy") ?? "", /"group-min";q=1000;w=60/);
    // customer2 has a bucket of their own
    assert.equal((await call(m, "customer2", "GET", "/orders")).status, 200);
  });
});

// ---------------------------------------------------------------- product images
// Uploads checked by the core (policy.json `body.upload`): tiny real files
// built here, the type proven by magic bytes and structure, the size limit
// enforced while streaming, the file name sanitised, agents and admins only.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Uint8Array) => (b.reduce((c, x) => CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>> 0;
const be32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const bytes = (...parts: (number[] | Uint8Array | string)[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : [...p]));

/** A valid 1×1 RGBA PNG: IHDR, an IDAT holding a zlib stream with one stored block, IEND. */
function png1x1(): Uint8Array<ArrayBuffer> {
  const chunk = (type: string, data: number[]) => {
    const td = bytes(type, data);
    return bytes(be32(data.length), td, be32(crc32(td)));
  };
  const raw = [0, 0x2a, 0x80, 0xff, 0xff]; // filter byte, one RGBA pixel
  let a = 1, b = 0;
  for (const x of raw) [a, b] = [(a + x) % 65521, (b + (a + x) % 65521) % 65521];
  const zlib = [0x78, 0x01, 0x01, raw.length, 0, ~raw.length & 0xff, 0xff, ...raw, ...be32(((b << 16) | a) >>> 0)];
  return bytes([0x89], "PNG\r\n\x1a\n", chunk("IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]), chunk("IDAT", zlib), chunk("IEND", []));
}

/** A valid 8×8 grey baseline JPEG: one block (DC 0, end of block), one-code Huffman tables. */
function jpeg8x8(): Uint8Array<ArrayBuffer> {
  const dht = (cls: number) => [0xff, 0xc4, 0x00, 0x14, cls, 1, ...new Array(15).fill(0), 0];
  return bytes(
    [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], "JFIF\0", [1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xdb, 0x00, 0x43, 0x00, ...new Array(64).fill(1)],
    [0xff, 0xc0, 0x00, 0x0b, 8, 0, 8, 0, 8, 1, 1, 0x11, 0],
    dht(0x00), dht(0x10),
    [0xff, 0xda, 0x00, 0x08, 1, 1, 0x00, 0, 0x3f, 0, 0x3f, 0xff, 0xd9],
  );
}

async function putImage(m: Market, who: Who, product: string, body: BodyInit, contentType?: string) {
  return await fetch(`${functionsUrl}/marketplace/${m.tenant}/products/${product}/image`, {
    method: "PUT",
    headers: { authorization: `Bearer ${await m.token(who)}`, "x-forwarded-for": randomIp(), ...(contentType ? { "content-type": contentType } : {}) },
    body,
  });
}

async function getImage(m: Market, who: Who, product: string) {
  return await fetch(`${functionsUrl}/marketplace/${m.tenant}/products/${product}/image`, {
    headers: { authorization: `Bearer ${await m.token(who)}`, "x-forwarded-for": randomIp() },
  });
}

const sha256Hex = async (b: Uint8Array<ArrayBuffer>) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("product images: an agent uploads a real PNG (raw body) and an admin a JPEG (multipart); members read them back", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const product = crypto.randomUUID();
    const png = png1x1();
    const put = await json(await putImage(m, "agent1", product, png, "image/png"), 200);
    assert.deepEqual(
      [put.content_type, put.filename, put.size_bytes, put.width, put.height, put.sha256],
      ["image/png", "upload.png", png.length, 1, 1, await sha256Hex(png)],
    );
    // a customer of the tenant reads it: the bytes, the detected type, nosniff
    const got = await getImage(m, "customer1", product);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("content-type"), "image/png");
    assert.equal(got.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), png);

    // the admin replaces it with a JPEG sent as a browser would (FormData);
    // a path-traversal file name comes out as its sanitised last segment
    const jpeg = jpeg8x8();
    const form = new FormData();
    form.append("file", new Blob([jpeg], { type: "image/jpeg" }), "../../../etc/cron.d/evil.php.jpg");
    const replaced = await json(await putImage(m, "admin", product, form), 200);
    assert.deepEqual([replaced.content_type, replaced.filename, replaced.width, replaced.height], ["image/jpeg", "evil_php.jpg", 8, 8]);
    const again = await getImage(m, "agent2", product);
    assert.equal(again.headers.get("content-type"), "image/jpeg");
    assert.equal(again.headers.get("content-disposition"), "inline; filename*=UTF-8''evil_php.jpg");
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), jpeg);

    // the row under RLS: one image per product, the uploader, audited without the bytes
    const rows = await sql`select content_type, filename, size_bytes, uploaded_by from public.product_images
                           where tenant_id = ${m.tenant} and product_id = ${product}`;
    assert.deepEqual(rows.map((r) => [r.content_type, r.filename, r.size_bytes, r.uploaded_by]), [["image/jpeg", "evil_php.jpg", jpeg.length, m.ids.admin]]);
    const audit = await sql`select operation, actor_id, new_record ->> 'data' as data, new_record ->> 'sha256' as sha
                            from public.audit_logs where table_name = 'product_images' and tenant_id = ${m.tenant} order by seq`;
    assert.deepEqual(audit.map((r) => [r.operation, r.actor_id, r.data]), [["INSERT", m.ids.agent1, "[redacted]"], ["UPDATE", m.ids.admin, "[redacted]"]]);
    assert.equal(audit[1].sha, await sha256Hex(jpeg));
    // another tenant's member sees nothing (the path's tenant is refused first)
    const other = await freshMarket(sql);
    const res = await fetch(`${functionsUrl}/marketplace/${m.tenant}/products/${product}/image`, {
      headers: { authorization: `Bearer ${await other.token("customer1")}`, "x-forwarded-for": randomIp() },
    });
    await assertError(res, 403, "TENANT_MISMATCH");
    await assertError(await getImage(m, "customer1", crypto.randomUUID()), 404, "NOT_FOUND");
  });
});

Deno.test("product images: a type the bytes do not prove → 415 UNSUPPORTED_MEDIA_TYPE, nothing stored", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const product = crypto.randomUUID();
    const pdf = bytes("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    const pngThenHtml = bytes(png1x1(), "<html><script>alert(document.cookie)</script></html>");
    const cases: [BodyInit, string, string][] = [
      [pdf, "image/png", "a PDF declared image/png"],
      [pngThenHtml, "image/png", "a PNG with an HTML page appended"],
      [bytes([0x89], "PNG\r\n\x1a\n<html></html>"), "image/png", "the PNG signature in front of HTML"],
      [png1x1(), "image/jpeg", "a PNG declared image/jpeg"],
      [png1x1().slice(0, 40), "image/png", "a truncated PNG"],
      [bytes('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), "image/svg+xml", "SVG (not on the list)"],
      [png1x1(), "application/json", "JSON declared"],
    ];
    for (const [body, type, what] of cases) {
      const res = await putImage(m, "agent1", product, body, type);
      const err = await assertError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
      assert.ok(!JSON.stringify(err).includes("script"), `${what}: no echo`);
    }
    // a multipart part declared image/png holding the PDF
    const form = new FormData();
    form.append("file", new Blob([pdf], { type: "image/png" }), "x.png");
    await assertError(await putImage(m, "agent1", product, form), 415, "UNSUPPORTED_MEDIA_TYPE");
    // an empty body, and a multipart body with a second part → 400
    await assertError(await putImage(m, "agent1", product, new Uint8Array(0), "image/png"), 400, "INVALID_BODY");
    const two = new FormData();
    two.append("file", new Blob([png1x1()], { type: "image/png" }), "a.png");
    two.append("note", "extra");
    await assertError(await putImage(m, "agent1", product, two), 400, "INVALID_BODY");
    const [{ n }] = await sql`select count(*)::int as n from public.product_images where tenant_id = ${m.tenant}`;
    assert.equal(n, 0);
  });
});

/** A body stream offering `total` bytes in 64 KiB chunks, counting what was pulled. */
function offered(total: number, first: Uint8Array<ArrayBuffer>) {
  const chunk = new Uint8Array(64 * 1024);
  const state = { sent: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (state.sent >= total) return c.close();
      const next = state.sent === 0 ? first : chunk;
      state.sent += next.byteLength;
      c.enqueue(next);
    },
  });
  return { body, state };
}

Deno.test("product images: an oversized body → 413 while streaming (the rest never read); a customer → 403 before any is read", async () => {
  await withDb(async (sql) => {
    const m = await freshMarket(sql);
    const product = crypto.randomUUID();
    const total = 64 * 1024 * 1024; // 64 MiB offered against the route's 2 MiB
    const big = offered(total, png1x1());
    await assertError(await putImage(m, "agent1", product, big.body, "image/png"), 413, "PAYLOAD_TOO_LARGE");
    assert.ok(big.state.sent < total, `answered after ${big.state.sent} of ${total} bytes`);
    // a declared Content-Length over the limit is refused before reading
    const declared = new Uint8Array(2 * 1024 * 1024 + 16 * 1024 + 1);
    declared.set(png1x1());
    await assertError(await putImage(m, "agent1", product, declared, "image/png"), 413, "PAYLOAD_TOO_LARGE");

    // customers may not upload: refused on the role, before the body is read
    const refused = offered(total, png1x1());
    await assertError(await putImage(m, "customer1", product, refused.body, "image/png"), 403, "FORBIDDEN");
    assert.ok(refused.state.sent < total, `answered after ${refused.state.sent} of ${total} bytes`);
    await assertError(await putImage(m, "customer1", product, png1x1(), "image/png"), 403, "FORBIDDEN");
    const [{ n }] = await sql`select count(*)::int as n from public.product_images where tenant_id = ${m.tenant}`;
    assert.equal(n, 0);
  });
});
