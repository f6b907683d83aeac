// POST /api-keys/:id/rotate {"overlap_s"?}: a new key replacing one of the
// caller's own live keys (same name, tenant, scopes and limits; scopes
// re-capped at the owner's current role); the old key keeps working for the
// overlap (0–7 days, default 1 hour; 0 revokes it now).
import { asAdmin, DatabaseError } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { keyView, type KeyView, VIEW_COLUMNS } from "./key_view.ts";
import { mintForRotate } from "./mint.ts";

/** Rotates key `id`; the answer carries the new plaintext, once. */
export async function rotateKey(caller: Caller, id: string, body: Uint8Array): Promise<KeyView & { key: string; overlap_s: number }> {
  const m = await mintForRotate(body);
  try {
    const row = await asAdmin(async (sql) => {
      const [r] = await sql<{ id: string | null }[]>`
        select private.api_key_rotate(${id}, ${caller.userId}, ${m.prefix}, ${m.key_hash}, ${m.overlap_s}) as id`;
      if (!r.id) return null;
      const [k] = await sql`select ${sql(VIEW_COLUMNS as unknown as string[])} from public.api_keys where id = ${r.id}`;
      return k;
    }, { ...caller.ctx, actorClaims: caller.claims });
    if (!row) throw new GuardError("NOT_FOUND", "no such live key of yours");
    return { ...keyView(row), key: m.key, overlap_s: m.overlap_s };
  } catch (e) {
    if (e instanceof DatabaseError && e.sqlstate === "42501") {
      throw new GuardError("FORBIDDEN", "the key's scopes exceed your current role's permissions");
    }
    throw e;
  }
}
