// DELETE /api-keys/:id: revokes a key of the caller's, or of the tenant the
// caller administers (private.api_key_revoke decides, as the service, with the
// caller as audit actor). Someone else's key and an unknown id are the same
// 404. The revocation reaches every isolate within a second (docs/api-keys.md).
import { asAdmin } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";

/** Revokes key `id`. */
export async function revokeKey(caller: Caller, id: string): Promise<void> {
  const [row] = await asAdmin((sql) => sql<{ ok: boolean }[]>`select private.api_key_revoke(${id}, ${caller.userId}) as ok`,
    { ...caller.ctx, actorClaims: caller.claims });
  if (!row.ok) throw new GuardError("NOT_FOUND", "no such key among yours or your tenant's");
}
