// GET /audit/logs[?actor=&table=&action=&from=&to=&before=&limit=]: the
// tenant's audit rows, newest first, read as the caller under RLS (holders of
// audit:read in the tenant; docs/database.md). Keyset pagination by id: the
// answer's `next_before` is the `before` of the next page, null on the last.
// The core validated the query (uuid, names, action, time shapes, integers).
import { asUser } from "../_shared/db/db.ts";
import { GuardError } from "../_shared/http/respond_error.ts";
import type { Caller } from "./caller.ts";
import { readTime } from "./read_time.ts";

/** One audit row as listed (personal fields are null once redacted). */
export interface AuditRow {
  id: string;
  seq: string;
  occurred_at: string;
  table: string;
  operation: string;
  row_pk: unknown;
  old_record: unknown;
  new_record: unknown;
  actor_id: string | null;
  actor_role: string | null;
  request_id: string | null;
  redacted_at: string | null;
  hash: string;
}

export async function listLogs(caller: Caller, query: URLSearchParams) {
  const limit = Number(query.get("limit") ?? 50);
  const before = query.get("before");
  const actor = query.get("actor");
  const table = query.get("table");
  const action = query.get("action");
  const fromIso = readTime(query, "from", null)?.toISOString() ?? null;
  const toIso = readTime(query, "to", null)?.toISOString() ?? null;
  // `public.tenant_members`, `event.account.erased`, or a bare `tenant_members`
  const dot = table?.indexOf(".") ?? -1;
  const [schema, name] = table && dot > 0 ? [table.slice(0, dot), table.slice(dot + 1)] : [null, table];
  const rows = await asUser(caller.claims, async (sql) => {
    // RLS alone would answer an empty page; say why instead (the membership decides, not the token)
    const [held] = await sql<{ ok: boolean }[]>`
      select private.has_tenant_permission(${caller.tenantId}, 'audit:read') as ok`;
    if (!held.ok) return null;
    return await sql<AuditRow[]>`
      select a.id::text, a.seq::text, a.occurred_at, a.table_schema || '.' || a.table_name as "table",
             a.operation, a.row_pk, a.old_record, a.new_record, a.actor_id, a.actor_role,
             a.request_id, a.redacted_at, a.hash
      from public.audit_logs a
      where a.tenant_id = ${caller.tenantId}
        and (${before}::bigint is null or a.id < ${before}::bigint)
        and (${actor}::uuid is null or a.actor_id = ${actor}::uuid)
        and (${schema}::text is null or a.table_schema = ${schema}::text)
        and (${name}::text is null or a.table_name = ${name}::text)
        and (${action}::text is null or a.operation = ${action}::text)
        and (${fromIso}::timestamptz is null or a.occurred_at >= ${fromIso}::timestamptz)
        and (${toIso}::timestamptz is null or a.occurred_at < ${toIso}::timestamptz)
      order by a.id desc
      limit ${limit + 1}`;
  }, caller);
  if (!rows) throw new GuardError("FORBIDDEN", "audit:read is not held in this tenant");
  const page = rows.slice(0, limit);
  return {
    tenant_id: caller.tenantId,
    items: page.map((r) => ({
      ...r,
      occurred_at: new Date(r.occurred_at).toISOString(),
      redacted_at: r.redacted_at ? new Date(r.redacted_at).toISOString() : null,
    })),
    next_before: rows.length > limit ? page[page.length - 1].id : null,
  };
}
