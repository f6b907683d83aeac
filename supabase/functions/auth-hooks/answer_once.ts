// Answers each Supabase Auth hook delivery once: the first answer to a
// `webhook-id` is stored with the work it did, in one transaction, and a
// replay of that id gets the stored answer without acting again (migration
// 20261202000300). Called only after the signature over id and body holds.
import type postgres from "npm:postgres@3.4.9";
import type { Sql } from "../_shared/db/connect_postgres.ts";

/** A hook's answer: what Supabase Auth reads (status and JSON body). */
export interface HookAnswer {
  status: number;
  body: unknown;
}

export type Hook = "custom-access-token" | "password-verification";

/** Deliveries older than this are forgotten (far beyond the signature's timestamp tolerance). */
const KEEP = "1 hour";

/**
 * Runs `work` in a transaction unless `webhookId` was answered before; then
 * returns the first answer. Concurrent deliveries of one id wait for the
 * first to commit (the primary key), so the work runs once. The work runs
 * in a savepoint: when it throws an error `refusal` turns into an answer
 * (a handled refusal), its effects are undone and the refusal is the stored
 * answer; any other error rolls everything back and is rethrown.
 */
export async function answerOnce(
  sql: Sql,
  webhookId: string,
  hook: Hook,
  work: (tx: Sql) => Promise<HookAnswer>,
  refusal: (e: unknown) => HookAnswer | undefined,
): Promise<HookAnswer> {
  return await sql.begin(async (tx: postgres.TransactionSql) => {
    const t = tx as unknown as Sql;
    const fresh = await t`
      with purge as (delete from private.auth_hook_deliveries where created_at < now() - ${KEEP}::interval)
      insert into private.auth_hook_deliveries (webhook_id, hook) values (${webhookId}, ${hook})
      on conflict (webhook_id) do nothing
      returning webhook_id`;
    if (fresh.length === 0) {
      const [first] = await t`
        select status, answer from private.auth_hook_deliveries
        where webhook_id = ${webhookId} and hook = ${hook} and status is not null`;
      if (!first) throw new Error("auth hook delivery replayed for another hook");
      return { status: Number(first.status), body: first.answer };
    }
    let answer: HookAnswer;
    try {
      answer = await tx.savepoint((sp) => work(sp as unknown as Sql)) as HookAnswer;
    } catch (e) {
      const refused = refusal(e);
      if (!refused) throw e;
      answer = refused;
    }
    await t`
      update private.auth_hook_deliveries set status = ${answer.status}, answer = ${t.json(answer.body as never)}
      where webhook_id = ${webhookId}`;
    return answer;
  }) as HookAnswer;
}
