// postAlert through the real wasm signer, to a receiver that verifies with
// the `standardwebhooks` package: a 2xx delivers; 500, a redirect, a dead
// port and a slow receiver are failed attempts with a reason that names no URL.
import { Webhook } from "npm:standardwebhooks@1.1.1";
import { loadHandlersWasm } from "../_shared/runtime/load_handlers_wasm.ts";
import { assert, eq } from "../_shared/test_assert.ts";
import { type OutboxAlert, postAlert } from "./post_alert.ts";

const { AlertSender } = await loadHandlersWasm();

const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const alert: OutboxAlert = {
  id: crypto.randomUUID(),
  alert_type: "security.bad_signatures",
  detected_at: new Date("2026-12-02T13:00:00Z"),
  attempts: 1,
  payload: { rule: "bad_signatures", endpoint: "stripe", events: 12 },
};

function sender(url: string) {
  return new AlertSender(JSON.stringify({ SECURITY_WEBHOOK_URL: url, SECURITY_WEBHOOK_SECRET: secret }));
}

async function withReceiver(answer: (req: Request) => Promise<Response>, fn: (url: string) => Promise<void>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, answer);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/hook`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("a 2xx answer delivers a body that standardwebhooks verifies", async () => {
  let verified: unknown;
  let id = "";
  await withReceiver(async (req) => {
    const body = await req.text();
    id = req.headers.get("webhook-id") ?? "";
    verified = new Webhook(secret).verify(body, Object.fromEntries(req.headers));
    return new Response(null, { status: 202 });
  }, async (url) => {
    const out = await postAlert(sender(url), alert);
    eq(JSON.stringify(out), JSON.stringify({ delivered: true, status: 202, error: null }), "outcome");
  });
  eq(id, `alert_${alert.id}`, "webhook-id");
  const got = verified as { type: string; timestamp: string; data: unknown };
  eq(got.type, "security.bad_signatures", "type");
  eq(got.timestamp, "2026-12-02T13:00:00.000Z", "timestamp");
  eq(
    JSON.stringify(got.data, Object.keys(got.data as object).sort()),
    JSON.stringify(alert.payload, Object.keys(alert.payload).sort()),
    "data",
  );
});

Deno.test("500, a redirect, a closed port and a slow receiver are failed attempts", async () => {
  await withReceiver(() => Promise.resolve(new Response("no", { status: 500 })), async (url) => {
    const out = await postAlert(sender(url), alert);
    eq(JSON.stringify(out), JSON.stringify({ delivered: false, status: 500, error: "receiver answered 500" }), "500");
  });
  await withReceiver(() => Promise.resolve(Response.redirect("http://127.0.0.1:9/elsewhere", 302)), async (url) => {
    const out = await postAlert(sender(url), alert);
    eq(out.delivered, false, "a redirect is not followed");
    eq(out.status, 302, "redirect status");
  });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const dead = await postAlert(sender(`http://127.0.0.1:${port}/hook`), alert);
  eq(JSON.stringify(dead), JSON.stringify({ delivered: false, status: null, error: "network error" }), "closed port");
  let release = () => {};
  const held = new Promise<void>((r) => release = r);
  await withReceiver(async () => {
    await held;
    return new Response(null, { status: 200 });
  }, async (url) => {
    const out = await postAlert(sender(url), alert, 100);
    release();
    eq(JSON.stringify(out), JSON.stringify({ delivered: false, status: null, error: "timeout" }), "slow receiver");
  });
});

Deno.test("an unusable configuration sends nothing", async () => {
  const half = new AlertSender(JSON.stringify({ SECURITY_WEBHOOK_URL: "https://a.example" }));
  const out = await postAlert(half, alert);
  eq(JSON.stringify(out), JSON.stringify({ delivered: false, status: null, error: "MISCONFIGURED" }), "no secret");
  const status = JSON.parse(half.status());
  assert(status.ok === false && status.configured === true, "reported as misconfigured");
  const none = JSON.parse(new AlertSender("{}").status());
  assert(none.ok === false && none.configured === false, "no URL: not configured");
});
