import { parseAnswer, refusalError } from "./parse_answer.ts";
import { loadHandlersWasm } from "./load_handlers_wasm.ts";
import { GuardError } from "../http/respond_error.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("a core refusal becomes a GuardError with its code and reason", async () => {
  const refused = parseAnswer((await loadHandlersWasm()).apiKeyRotate(new TextEncoder().encode("{nope"), "{}"));
  assert(!refused.ok, "refused");
  const e = refusalError(refused);
  assert(e instanceof GuardError, "GuardError");
  eq(e.code, refused.code);
  eq(e.reason, refused.reason);
  const details = [{ path: "/a" }];
  eq(refusalError({ ok: false, status: 422, code: "VALIDATION_FAILED", reason: "r", details }).details, details);
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
