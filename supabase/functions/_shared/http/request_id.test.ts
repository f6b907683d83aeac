import { newRequestId, requestIdFor } from "./request_id.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("a fresh id is a random UUID, different each time", () => {
  const a = newRequestId(), b = newRequestId();
  assert(uuid.test(a) && uuid.test(b) && a !== b, `${a} ${b}`);
});

Deno.test("a well-formed incoming x-request-id is kept", () => {
  for (const id of ["abc-123", "req_1.2.3", "A".repeat(64), crypto.randomUUID()]) {
    const req = new Request("http://x/", { headers: { "x-request-id": id } });
    assert(requestIdFor(req) === id, id);
  }
});

Deno.test("a malformed incoming x-request-id is replaced", () => {
  const bad = ["", "a b", "a\"b", "<script>", "é", "x".repeat(4096), "a;b", "a/b"];
  for (const id of bad) {
    const req = new Request("http://x/", { headers: { "x-request-id": id } });
    const got = requestIdFor(req);
    assert(got !== id && uuid.test(got), `${JSON.stringify(id)} -> ${got}`);
  }
  assert(uuid.test(requestIdFor(new Request("http://x/"))), "absent header gets a UUID");
});
