import { DatabaseMisconfigured, DatabaseUnavailable, errorCode, toDatabaseError } from "./database_error.ts";
import { assert, eq } from "../test_assert.ts";

Deno.test("errorCode names an error by its code or class, never by its text", () => {
  const secret = "password=hunter2 host=db.internal";
  eq(errorCode(Object.assign(new Error(secret), { code: "ECONNREFUSED" })), "ECONNREFUSED");
  eq(errorCode(new TypeError(secret)), "TypeError");
  eq(errorCode(secret), "string");
  eq(errorCode(undefined), "undefined");
  for (const e of [new Error(secret), new RangeError(secret)]) assert(!errorCode(e).includes("hunter2"), "no message");
});

Deno.test("unavailability by errno, socket error name and SQLSTATE; the reason is the code, never the message", () => {
  const cases: [unknown, string][] = [
    [Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), { code: "ECONNREFUSED" }), "ECONNREFUSED"],
    [Object.assign(new Error("x"), { name: "TimedOut" }), "TimedOut"],
    [Object.assign(new Error("too many clients"), { code: "53300", name: "PostgresError" }), "53300"],
    [Object.assign(new Error("password authentication failed"), { code: "28P01", name: "PostgresError" }), "28P01"],
  ];
  for (const [e, reason] of cases) {
    const mapped = toDatabaseError(e);
    assert(mapped instanceof DatabaseUnavailable, `${reason} is unavailable`);
    eq(mapped.reason, reason);
    eq(mapped.status, 503);
    eq(mapped.message, "database unavailable");
  }
  const mis = new DatabaseMisconfigured();
  eq(toDatabaseError(mis), mis, "already classified errors pass unchanged");
  eq(mis.status, 500);
  eq(toDatabaseError("plain"), "plain", "non-objects pass through");
});
