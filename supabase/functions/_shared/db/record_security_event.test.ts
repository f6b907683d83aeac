// The write path against a real database is covered over HTTP
// (tests/e2e/security_events.test.ts); here: a database that cannot be
// reached never breaks the refusal and logs one safe line.
import { pendingEvents, recordSecurityEvent } from "./record_security_event.ts";
import { assert, eq } from "../test_assert.ts";

async function withoutDatabase(run: () => void): Promise<string[]> {
  const saved = Deno.env.get("SUPABASE_DB_URL");
  Deno.env.delete("SUPABASE_DB_URL");
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    run();
    await Promise.all([...pendingEvents]);
  } finally {
    console.error = orig;
    if (saved !== undefined) Deno.env.set("SUPABASE_DB_URL", saved);
  }
  return lines;
}

Deno.test("without a database a rate-limit event is dropped with one warning, never an exception", async () => {
  const lines = await withoutDatabase(() =>
    recordSecurityEvent("rid-7", {
      event_type: "rate_limited",
      severity: "warning",
      actor: null,
      details: { route: "GET /x", rule: "ip-min", retry_after_s: 3 },
    })
  );
  eq(lines.length, 1, "one line");
  const v = JSON.parse(lines[0]);
  eq(v.request_id, "rid-7");
  assert(v.msg.includes("security event not recorded"), v.msg);
});

Deno.test("an auth_denied event without a database is dropped with one safe warning", async () => {
  const lines = await withoutDatabase(() =>
    recordSecurityEvent("rid-8", {
      event_type: "auth_denied",
      severity: "notice",
      actor: null,
      details: { code: "INVALID_JWT", reason: "signature does not verify", route: "GET /me" },
    })
  );
  eq(lines.length, 1, "one line");
  eq(JSON.parse(lines[0]).request_id, "rid-8");
  assert(!lines[0].includes("signature does not verify"), "details are not logged");
});
