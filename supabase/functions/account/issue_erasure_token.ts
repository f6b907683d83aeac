// POST /account/erasure-token: a confirmation token for DELETE /account,
// signed by the core for this user and valid for 5 minutes (edgeguard_core::erasure).
import { eraseConfirm } from "./erasure_confirm.ts";
import { log } from "../_shared/runtime/log.ts";
import type { Caller } from "./caller.ts";

/** `{token, expires_in_s, expires_at}`. */
export async function issueErasureToken(caller: Caller) {
  const t = await eraseConfirm().issue(caller.userId);
  log("info", "account: erasure confirmation issued", { request_id: caller.requestId });
  return { token: t.token, expires_in_s: t.expires_in_s, expires_at: new Date(t.expires_at_s * 1000).toISOString() };
}
