import { displayNameOf } from "./display_name.ts";
import { eq } from "../_shared/test_assert.ts";

Deno.test("displayNameOf: first usable of display_name, full_name, name; trimmed", () => {
  eq(displayNameOf({ user_metadata: { display_name: " Ada ", full_name: "Ada Lovelace" } }), "Ada");
  eq(displayNameOf({ user_metadata: { display_name: "   ", full_name: "Ada Lovelace" } }), "Ada Lovelace");
  eq(displayNameOf({ user_metadata: { display_name: 5, name: "ada" } }), "ada");
});

Deno.test("displayNameOf: null when missing, not a string, or longer than the column allows", () => {
  eq(displayNameOf({}), null);
  eq(displayNameOf({ user_metadata: null }), null);
  eq(displayNameOf({ user_metadata: ["Ada"] }), null);
  eq(displayNameOf({ user_metadata: { name: { first: "Ada" } } }), null);
  eq(displayNameOf({ user_metadata: { name: "x".repeat(101) } }), null);
  eq(displayNameOf({ user_metadata: { name: "é".repeat(100) } }), "é".repeat(100), "counts characters, not bytes");
});
