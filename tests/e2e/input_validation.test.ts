// Bad input over HTTP: 413 while streaming (the rest is never read), 415,
// 400, 422 with field paths, path and query parameters.
import * as assert from "./assert.ts";
import { assertError, probe, randomIp } from "./probe_support.ts";

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(probe("/items"), {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-forwarded-for": randomIp(), ...headers },
  });

Deno.test("413 while streaming a chunked body: answered before the client finishes sending", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const total = 64 * 1024 * 1024; // 64 MiB offered, limit 1 KiB
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      sent += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  let res: Response;
  try {
    res = await fetch(probe("/items"), {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-forwarded-for": randomIp() },
    });
  } catch (e) {
    throw new Error(`no response (${e}); ${sent} bytes sent`);
  }
  await assertError(res, 413, "PAYLOAD_TOO_LARGE");
  assert.ok(sent < total, `the server answered after ${sent} of ${total} bytes: it did not wait for the rest`);
});

Deno.test("413 from a declared Content-Length; the limit (1024 bytes) is inclusive", async () => {
  const json = JSON.stringify({ name: "a", email: "a@example.com" });
  const exact = json + " ".repeat(1024 - json.length);
  const res = await post(exact);
  assert.equal(res.status, 200, "exactly 1024 bytes pass");
  await res.body?.cancel();
  await assertError(await post(exact + " "), 413, "PAYLOAD_TOO_LARGE");
});

Deno.test("415 for other media types or charsets", async () => {
  for (const ct of ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json; charset=latin1"]) {
    await assertError(await post('{"name":"a","email":"a@example.com"}', { "content-type": ct }), 415, "UNSUPPORTED_MEDIA_TYPE");
  }
  const ok = await post('{"name":"a","email":"a@example.com"}', { "content-type": "Application/JSON; charset=utf-8" });
  assert.equal(ok.status, 200, "case-insensitive media type, utf-8 charset");
  await ok.body?.cancel();
});

Deno.test("400 INVALID_BODY: broken JSON, duplicate keys, bad UTF-8, too deep, empty with a schema", async () => {
  const bad: BodyInit[] = [
    "{",
    '{"name":"a","name":"b","email":"a@example.com"}',
    new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    "[".repeat(40) + "]".repeat(40),
    "",
    '{"name":"a"} {"name":"b"}',
  ];
  for (const b of bad) {
    const body = await assertError(await post(b), 400, "INVALID_BODY");
    assert.equal(body.details, undefined, "no details for 400");
  }
});

Deno.test("422 VALIDATION_FAILED lists every field path, never the submitted values", async () => {
  const secretish = `value-${crypto.randomUUID()}`;
  const res = await post(JSON.stringify({ name: "", email: secretish, tags: [1, "b", "c", "d"], extra: secretish }));
  const body = await assertError(res, 422, "VALIDATION_FAILED");
  const paths = (body.details as { path: string; message: string }[]).map((d) => d.path).sort();
  assert.deepEqual(paths, ["/email", "/extra", "/name", "/tags", "/tags/0"]);
  assert.ok(!JSON.stringify(body).includes(secretish), "submitted values are not echoed");
  const ok = await post(JSON.stringify({ name: "Ann", email: "ann@example.com", tags: ["a"] }));
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).body, { name: "Ann", email: "ann@example.com", tags: ["a"] }, "ctx.body is the parsed value");
});

Deno.test("path and query parameters: 422 with /params and /query paths", async () => {
  const id = crypto.randomUUID();
  const get = (path: string) => fetch(probe(path), { headers: { "x-forwarded-for": randomIp() } });
  const a = await assertError(await get("/items/not-a-uuid"), 422, "VALIDATION_FAILED");
  assert.deepEqual((a.details as { path: string }[]).map((d) => d.path), ["/params/id"]);
  for (const [q, path] of [["limit=0", "/query/limit"], ["limit=abc", "/query/limit"], ["other=1", "/query/other"]]) {
    const b = await assertError(await get(`/items/${id}?${q}`), 422, "VALIDATION_FAILED");
    assert.deepEqual((b.details as { path: string }[]).map((d) => d.path), [path], q);
  }
  await assertError(await get(`/items/${id}?limit=1&limit=2`), 422, "VALIDATION_FAILED");
  const ok = await get(`/items/${id}?limit=10`);
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).params, { id });
});
