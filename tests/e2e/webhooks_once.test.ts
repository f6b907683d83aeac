// processWebhookOnce against the stack's real Postgres: a failing handler
// leaves no trace (the provider's retry is processed), the handler's writes
// commit with the delivery record, and a concurrent duplicate that waited on a
// delivery whose handler failed processes it itself, exactly once.
import * as assert from "./assert.ts";
import postgres from "npm:postgres@3.4.9";
import { dbUrl } from "./stack.ts";
import { processWebhookOnce, type WebhookEvent } from "../../supabase/functions/_shared/webhooks/process_webhook_once.ts";
import { uid } from "./webhooks_support.ts";

function event(id: string): WebhookEvent {
  const body = JSON.stringify({ id, type: "once.test" });
  return {
    provider: "stripe",
    id,
    idSigned: true,
    type: "once.test",
    timestamp: Math.floor(Date.now() / 1000),
    body: JSON.parse(body),
    rawBody: new TextEncoder().encode(body),
    headers: new Headers(),
    requestId: crypto.randomUUID(),
  };
}

async function withSql<T>(fn: (sql: ReturnType<typeof postgres>) => Promise<T>): Promise<T> {
  const sql = postgres(dbUrl, { max: 4, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

const rows = (sql: ReturnType<typeof postgres>, id: string) =>
  sql`select 1 from public.webhook_events where provider = 'stripe' and event_id = ${id}`;

Deno.test("a failing handler rolls back its writes and the delivery record; the retry is handled", async () => {
  await withSql(async (sql) => {
    const e = event(uid("evt_once_"));
    const marker = uid("marker-");
    let failed: unknown;
    try {
      await processWebhookOnce(sql, e, async (_ev, tx) => {
        await tx`insert into public.security_events (event_type, details) values ('webhook_test', ${sql.json({ marker })})`;
        throw new Error("handler failed");
      });
    } catch (err) {
      failed = err;
    }
    assert.ok(failed instanceof Error && failed.message === "handler failed", "the error reaches the caller");
    assert.equal((await rows(sql, e.id!)).length, 0, "no delivery record");
    assert.equal((await sql`select 1 from public.security_events where details->>'marker' = ${marker}`).length, 0, "handler write rolled back");

    let runs = 0;
    const retry = await processWebhookOnce(sql, e, async (_ev, tx) => {
      runs++;
      await tx`insert into public.security_events (event_type, details) values ('webhook_test', ${sql.json({ marker })})`;
      return "done";
    });
    assert.deepEqual(retry, { duplicate: false, result: "done" });
    assert.equal(runs, 1);
    assert.equal((await rows(sql, e.id!)).length, 1);
    assert.equal((await sql`select 1 from public.security_events where details->>'marker' = ${marker}`).length, 1, "committed once");
    assert.deepEqual(await processWebhookOnce(sql, e, () => runs++), { duplicate: true });
    assert.equal(runs, 1, "a duplicate runs nothing");
  });
});

Deno.test("a concurrent duplicate waits; when the first handler fails, the waiting one handles the event", async () => {
  await withSql(async (sql) => {
    const e = event(uid("evt_race_"));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let claimedFirst!: () => void;
    const firstClaimed = new Promise<void>((r) => (claimedFirst = r));
    let handled = 0;

    const first = processWebhookOnce(sql, e, async () => {
      claimedFirst();
      await gate; // hold the row lock until released
      throw new Error("first handler failed");
    }).catch((err) => err);
    await firstClaimed;
    const second = processWebhookOnce(sql, e, () => {
      handled++;
      return "second";
    });
    // the second delivery blocks on the unique index while the first is open
    let finished = false;
    second.then(() => (finished = true), () => (finished = true));
    const deadline = Date.now() + 15_000; // only bounds a hang; never decides a pass
    for (let waiting = 0; waiting === 0;) {
      assert.ok(Date.now() < deadline, "the duplicate never reached the unique-index wait");
      [{ waiting }] = await sql`select count(*)::int as waiting from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%insert into public.webhook_events%'`;
      assert.equal(finished, false, "the duplicate must not finish while the first is open");
    }
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.ok(a instanceof Error, "the first failed");
    assert.deepEqual(b, { duplicate: false, result: "second" });
    assert.equal(handled, 1);
    assert.equal((await rows(sql, e.id!)).length, 1);
  });
});
