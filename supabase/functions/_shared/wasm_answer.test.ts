import { parseAnswer, refusalError } from "./wasm_answer.ts";
import { loadHardening } from "./load_hardening.ts";
import { GuardError } from "./respond_error.ts";
import { assert, eq } from "./test_assert.ts";

Deno.test("a core refusal becomes a GuardError with its code, reason, headers and details", () => {
  const s = loadHardening({
    auth: ["none"],
    limits: { classes: { standard: [{ name: "one", by: ["ip"], limit: 1, window_s: 60 }] } },
    routes: [{ method: "POST", path: "/x", body: { schema: { type: "object", required: ["a"] } } }],
  }, {});
  assert(s.ok, "ok");
  const facts = JSON.stringify({ headers: { "x-forwarded-for": "203.0.113.5" } });
  s.hardening.limitLocal("POST /x", facts, 1000);
  const refused = parseAnswer(s.hardening.limitLocal("POST /x", facts, 1000));
  assert(!refused.ok, "refused");
  const e = refusalError(refused);
  assert(e instanceof GuardError, "GuardError");
  eq(e.code, "RATE_LIMITED");
  assert(e.headers?.some(([n, v]) => n === "Retry-After" && v === "60"), JSON.stringify(e.headers));
  const invalid = parseAnswer(s.hardening.checkBody("POST /x", "application/json", new TextEncoder().encode("{}")));
  assert(!invalid.ok, "422");
  const v = refusalError(invalid);
  eq(v.code, "VALIDATION_FAILED");
  eq((v.details as { path: string }[])[0].path, "/a");
});

Deno.test("parseAnswer: the plain allow is one frozen object; everything else is parsed", () => {
  const a = parseAnswer('{"ok":true}');
  assert(a.ok && Object.isFrozen(a), "frozen allow");
  eq(a, parseAnswer('{"ok":true}'), "shared");
  const b = parseAnswer<{ value: number }>('{"ok":true,"value":1}');
  assert(b.ok && b.value === 1 && !Object.isFrozen(b), "parsed");
  const c = parseAnswer('{"ok":false,"status":403,"code":"CSRF_FAILED","reason":"r"}');
  assert(!c.ok && c.status === 403, "refusal parsed");
});
