import { databaseRefusal } from "./database_refusal.ts";
import { DatabaseError, DatabaseMisconfigured, DatabaseUnavailable } from "../_shared/db.ts";
import { GuardError } from "../_shared/respond_error.ts";
import { assert, eq } from "../_shared/test_assert.ts";

Deno.test("databaseRefusal: unreachable -> UNAVAILABLE, no URL -> MISCONFIGURED, others unchanged", () => {
  const down = databaseRefusal(new DatabaseUnavailable("ECONNREFUSED"));
  assert(down instanceof GuardError, "a GuardError");
  eq(down.code, "UNAVAILABLE");
  assert(!String(down.reason).includes("ECONNREFUSED"), "no driver detail in the reason");
  const mis = databaseRefusal(new DatabaseMisconfigured());
  assert(mis instanceof GuardError, "a GuardError");
  eq(mis.code, "MISCONFIGURED");
  const rls = new DatabaseError("42501");
  eq(databaseRefusal(rls), rls);
  const other = new TypeError("x");
  eq(databaseRefusal(other), other);
});
