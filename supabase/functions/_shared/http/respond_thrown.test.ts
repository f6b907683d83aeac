import { respondThrown } from "./respond_thrown.ts";
import { GuardError } from "./respond_error.ts";
import { DatabaseMisconfigured, DatabaseUnavailable } from "../db/database_error.ts";
import { assert, eq } from "../test_assert.ts";

async function answer(e: unknown, production = false) {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    const res = respondThrown(e, "rid-1", production);
    return { status: res.status, body: await res.json(), lines };
  } finally {
    console.error = orig;
  }
}

Deno.test("database errors by their one classification; a driver's error code maps like the class", async () => {
  eq((await answer(new DatabaseUnavailable("ECONNREFUSED"))).status, 503);
  eq((await answer(Object.assign(new Error("connect refused at 10.0.0.1"), { code: "ECONNREFUSED" }))).body.code, "UNAVAILABLE");
  const mis = await answer(new DatabaseMisconfigured());
  eq([mis.status, mis.body.code].join(" "), "500 MISCONFIGURED");
});

Deno.test("a GuardError answers its code; anything else is INTERNAL without its message", async () => {
  const g = await answer(new GuardError("FORBIDDEN", "role admin required"));
  eq([g.status, g.body.code, g.body.hint].join("|"), "403|FORBIDDEN|role admin required");
  eq((await answer(new GuardError("FORBIDDEN", "role admin required"), true)).body.hint, undefined, "no hint in production");
  const other = await answer(new Error("boom at /srv/secret.ts"));
  eq(other.status, 500);
  eq(other.body.code, "INTERNAL");
  assert(!JSON.stringify(other.body).includes("secret") && !other.lines.join("").includes("secret"), "no message anywhere");
  eq(other.body.request_id, "rid-1");
});
