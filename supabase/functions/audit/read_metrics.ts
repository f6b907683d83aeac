// GET /audit/metrics[?from=&to=]: the caller's tenant's security events per
// hour, type, route and code (auth failures, rate limits, bad signatures),
// from private.security_metrics_hourly_rollup, which the scheduler refreshes
// with the retention run (docs/database.md). Default: the last 24 hours.
import { asAuditReader, type Caller } from "./caller.ts";
import { readTime } from "./read_time.ts";

interface MetricRow {
  hour: string;
  event_type: string;
  route: string;
  code: string;
  events: string;
}

const DAY_MS = 24 * 3600 * 1000;

export async function readMetrics(caller: Caller, query: URLSearchParams) {
  const to = readTime(query, "to", new Date())!;
  const from = readTime(query, "from", new Date(to.getTime() - DAY_MS))!;
  const rows = await asAuditReader(caller, (sql) =>
    sql<MetricRow[]>`
        select hour, event_type, route, code, events::text
        from private.tenant_security_metrics(${caller.tenantId}, ${from.toISOString()}, ${to.toISOString()})`);
  return {
    tenant_id: caller.tenantId,
    from: from.toISOString(),
    to: to.toISOString(),
    metrics: rows.map((r) => ({
      ...r,
      hour: new Date(r.hour).toISOString(),
      events: Number(r.events),
    })),
  };
}
