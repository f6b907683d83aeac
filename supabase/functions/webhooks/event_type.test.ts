import { eventType } from "./event_type.ts";
import { eq } from "../_shared/test_assert.ts";

Deno.test("eventType: signed body type for stripe and standard, provider headers for github and shopify", () => {
  const h = new Headers({ "x-github-event": "push", "x-shopify-topic": "orders/create" });
  eq(eventType("stripe", h, { type: "invoice.paid" }), "invoice.paid", "stripe");
  eq(eventType("standard", h, { type: "user.created" }), "user.created", "standard");
  eq(eventType("github", h, { type: "ignored" }), "push", "github");
  eq(eventType("shopify", h, { type: "ignored" }), "orders/create", "shopify");
});

Deno.test("eventType: absent, non-string, empty or oversized types are null", () => {
  const none = new Headers();
  eq(eventType("stripe", none, null), null, "null body");
  eq(eventType("stripe", none, [{ type: "x" }]), null, "array body");
  eq(eventType("stripe", none, { type: 7 }), null, "number");
  eq(eventType("standard", none, { type: "" }), null, "empty");
  eq(eventType("standard", none, { type: "x".repeat(201) }), null, "too long");
  eq(eventType("github", none, { type: "push" }), null, "github without header");
});
