// DELETE /account {"confirm": token}: checks the confirmation token (core),
// then erases the caller in one transaction with private.erase_user: their
// rows deleted, keys and memberships gone, the auth user deleted, the audit
// rows about them redacted (the chain stays verifiable) and an
// `account.erased` event appended, all signed at commit like every audit write.
import { asAdmin, DatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import { log } from "../_shared/runtime/log.ts";
import { eraseConfirm } from "./erasure_confirm.ts";
import type { Caller } from "./caller.ts";

/** What was erased (counts only). */
export async function eraseAccount(caller: Caller, confirm: string) {
  await eraseConfirm().check(confirm, caller.userId);
  let erased: Record<string, unknown>;
  try {
    erased = await asAdmin(async (sql) => {
      const [row] = await sql<{ result: Record<string, unknown> }[]>`
        select private.erase_user(${caller.userId}::uuid) as result`;
      return row.result;
    }, { actorClaims: caller.claims, requestId: caller.requestId, clientIp: caller.clientIp, userAgent: caller.userAgent });
  } catch (e) {
    if (e instanceof DatabaseError && e.sqlstate === "P0002") throw new GuardError("NOT_FOUND", "no such user");
    throw e;
  }
  log("info", "account: erased", { request_id: caller.requestId, ...erased });
  return { erased: true, ...erased };
}
