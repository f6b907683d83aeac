// The write path against a real database is covered over HTTP
// (tests/e2e/hardening_events.test.ts); here: a database that cannot be
// reached never breaks the refusal and logs one safe line.
import { pendingEvents, recordAuthDeniedEvent, recordRateLimitEvent } from "./record_security_event.ts";
import { assert, eq } from "./test_assert.ts";

Deno.test("without a database the event is dropped with one warning, never an exception", async () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.delete("SUPABASE_DB_URL");
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    recordRateLimitEvent("rid-7", "GET /x", {
      allowed: false,
      retry_after_s: 3,
      exceeded: "ip-min",
      record_event: true,
      policies: [],
      global: [],
    });
    await Promise.all([...pendingEvents]);
  } finally {
    console.error = orig;
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
  }
  eq(lines.length, 1, "one line");
  const v = JSON.parse(lines[0]);
  eq(v.request_id, "rid-7");
  assert(v.msg.includes("security event not recorded"), v.msg);
});

Deno.test("an auth_denied event without a database is dropped with one safe warning", async () => {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.delete("SUPABASE_DB_URL");
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    recordAuthDeniedEvent("rid-8", "GET /me", "INVALID_JWT", "signature does not verify");
    await Promise.all([...pendingEvents]);
  } finally {
    console.error = orig;
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
  }
  eq(lines.length, 1, "one line");
  const v = JSON.parse(lines[0]);
  eq(v.request_id, "rid-8");
  assert(!lines[0].includes("signature does not verify"), "details are not logged");
});
