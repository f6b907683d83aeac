import { readBody } from "./read_body.ts";
import { assert, eq } from "../test_assert.ts";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers });

Deno.test("reads a body up to and including the limit", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(100));
  const r = await readBody(post(bytes), 100);
  assert(r.ok, "exactly the limit passes");
  eq(r.bytes.length, 100);
  assert(r.bytes.every((b, i) => b === bytes[i]), "same bytes");
  const e = await readBody(new Request("http://x/"), 10);
  assert(e.ok && e.bytes.length === 0, "no body is empty");
});

Deno.test("one byte over the limit is refused", async () => {
  const r = await readBody(post(new Uint8Array(101)), 100);
  assert(!r.ok && r.tooLarge, "101 > 100");
});

Deno.test("a declared Content-Length over the limit is refused before reading", async () => {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({ pull(c) { pulled++; c.enqueue(new Uint8Array(1)); } });
  const r = await readBody(post(stream, { "content-length": "1000000" }), 100);
  assert(!r.ok, "refused");
  assert(pulled <= 1, `read ${pulled} chunks`);
});

Deno.test("a streamed body stops at the limit, the rest is never pulled", async () => {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      if (pulled > 100_000) c.close();
      else c.enqueue(new Uint8Array(10));
    },
  });
  const r = await readBody(post(stream), 1000);
  assert(!r.ok, "refused");
  assert(pulled <= 105, `pulled ${pulled} chunks of 10 bytes for a 1000-byte limit`);
});

Deno.test("many small chunks are joined in order", async () => {
  const parts = Array.from({ length: 50 }, (_, i) => new Uint8Array([i]));
  const stream = new ReadableStream<Uint8Array>({ pull(c) { const p = parts.shift(); if (p) c.enqueue(p); else c.close(); } });
  const r = await readBody(post(stream), 50);
  assert(r.ok, "fits");
  assert(r.bytes.every((b, i) => b === i), "in order");
});
