// GET /api-keys: the caller's own keys, and for a tenant admin the tenant's,
// newest first, read as the caller under RLS (the select policy decides; the
// column grants keep key_hash out of reach).
import { asUser } from "../_shared/db/db.ts";
import type { Caller } from "./caller.ts";
import { keyView, type KeyView, VIEW_COLUMNS } from "./key_view.ts";

/** The keys the caller may see. */
export async function listKeys(caller: Caller, query: URLSearchParams): Promise<{ keys: KeyView[] }> {
  const limit = Number(query.get("limit") ?? 100);
  const offset = Number(query.get("offset") ?? 0);
  const rows = await asUser(caller.claims, (sql) =>
    sql`select ${sql(VIEW_COLUMNS as unknown as string[])} from public.api_keys
        order by created_at desc, id limit ${limit} offset ${offset}`, caller.ctx);
  return { keys: rows.map(keyView) };
}
