// The local stack's stand-in for pg_cron (docs/database.md, "Retention"):
// every 10 minutes, while the server runs, refresh the hourly security
// metrics rollup (private.refresh_security_metrics) and apply the retention
// policies (private.apply_retention). A database that is not reachable is skipped
// until the next tick; the timer never keeps the process alive.
import postgres from "npm:postgres@3.4.9";

export const RETENTION_EVERY_MS = 10 * 60 * 1000;

/** One run: returns "table action n" lines for what was removed. */
export async function runRetention(dbUrl: string): Promise<string[]> {
  const sql = postgres(dbUrl, {
    max: 1,
    prepare: false,
    onnotice: () => {},
    connect_timeout: 5,
  });
  try {
    await sql`select private.refresh_security_metrics()`;
    const rows = await sql<
      { table_name: string; action: string; removed: string }[]
    >`
      select table_name, action, removed::text from private.apply_retention()`;
    return rows.filter((r) => r.removed !== "0").map((r) =>
      `${r.table_name} ${r.action} ${r.removed}`
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Starts the timer; `log` gets one line per run that removed something or failed. */
export function scheduleRetention(
  dbUrl: string | undefined,
  log: (line: string) => void,
): ReturnType<typeof setInterval> | undefined {
  if (!dbUrl) return undefined;
  const id = setInterval(async () => {
    try {
      const removed = await runRetention(dbUrl);
      if (removed.length) log(`retention: ${removed.join(", ")}`);
    } catch (e) {
      log(`retention skipped (${e instanceof Error ? e.name : typeof e})`);
    }
  }, RETENTION_EVERY_MS);
  Deno.unrefTimer(id);
  return id;
}
