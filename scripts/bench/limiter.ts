// Postgres limiter benchmark: checks per second through the real
// shim code path (db/hit_global_limits.ts -> private.rate_limit_hit, one statement
// per request) at 1, 16 and 64 concurrent clients, on distinct keys (many
// callers) and on one hot key (every client on the same row lock), plus the
// exactness figure: how many of a burst were admitted against the limit.
//
// Needs a database with the migrations applied (the dev stack by default):
//   deno run -A scripts/bench/limiter.ts [--db postgresql://...] [--checks 4000]
// or EDGEGUARD_DB_URL / SUPABASE_DB_URL.
import postgres from "npm:postgres@3.4.9";
import { hitGlobalLimits } from "../../supabase/functions/_shared/db/hit_global_limits.ts";
import { POSTGRES_OPTIONS } from "../../supabase/functions/_shared/db/connect_postgres.ts";

const arg = (name: string) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const dbUrl = arg("db") ?? Deno.env.get("EDGEGUARD_DB_URL") ?? Deno.env.get("SUPABASE_DB_URL") ??
  `postgresql://postgres:postgres@127.0.0.1:${Deno.env.get("EDGEGUARD_DB_PORT") ?? "54322"}/postgres`;
const checksPerLevel = Number(arg("checks") ?? "4000");
const levels = [1, 16, 64];
const run = crypto.randomUUID().slice(0, 8);

const probe = postgres(dbUrl, { max: 1, onnotice: () => {} });
try {
  const [{ ok }] = await probe`select to_regprocedure('private.rate_limit_hit(text,integer,integer)') is not null as ok`;
  if (!ok) throw new Error("private.rate_limit_hit is missing: apply the migrations (npm run db -- migrate)");
} finally {
  await probe.end();
}

interface Row {
  clients: number;
  keys: string;
  checks: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

async function level(clients: number, hot: boolean): Promise<Row> {
  const sql = postgres(dbUrl, { ...POSTGRES_OPTIONS, max: clients });
  const check = (checks: Parameters<typeof hitGlobalLimits>[0]) => hitGlobalLimits(checks, () => Promise.resolve(sql));
  const per = Math.ceil(checksPerLevel / clients);
  const lat: number[] = [];
  // warm the pool: one connection per client
  await Promise.all(Array.from({ length: clients }, () => sql`select 1`));
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < per; i++) {
      const key = hot ? `bench-${run}:hot-${clients}` : `bench-${run}:c${clients}-${c}-${i % 50}`;
      const t = performance.now();
      const [r] = await check([{ rule: "bench", key, limit: 1_000_000, window_s: 60 }]);
      lat.push(performance.now() - t);
      if (!r.allowed) throw new Error("a check under the limit was refused");
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  lat.sort((a, b) => a - b);
  const checks = per * clients;
  return {
    clients,
    keys: hot ? "one hot key" : "distinct keys",
    checks,
    seconds,
    perSecond: checks / seconds,
    p50ms: lat[Math.floor(lat.length * 0.5)],
    p99ms: lat[Math.floor(lat.length * 0.99)],
  };
}

async function exactness(clients: number, limit: number, burst: number) {
  const sql = postgres(dbUrl, { ...POSTGRES_OPTIONS, max: clients });
  const check = (checks: Parameters<typeof hitGlobalLimits>[0]) => hitGlobalLimits(checks, () => Promise.resolve(sql));
  const key = `bench-${run}:exact-${clients}`;
  let admitted = 0;
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < burst) {
      next++;
      const [r] = await check([{ rule: "bench", key, limit, window_s: 3600 }]);
      if (r.allowed) admitted++;
    }
  }));
  await sql.end();
  return { clients, limit, burst, admitted };
}

const rows: Row[] = [];
for (const hot of [false, true]) for (const c of levels) rows.push(await level(c, hot));
const exact = [];
for (const c of levels) exact.push(await exactness(c, 100, 1000));

const cleanup = postgres(dbUrl, { max: 1, onnotice: () => {} });
await cleanup`delete from private.rate_limits where key like ${`bench-${run}:%`}`;
await cleanup.end();

console.log("### Postgres limiter (private.rate_limit_hit via db/hit_global_limits.ts)\n");
console.log("| clients | keys | checks | checks/s | p50 ms | p99 ms |");
console.log("| ---: | --- | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.clients} | ${r.keys} | ${r.checks} | ${r.perSecond.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} |`);
}
console.log("\n| clients | limit | burst | admitted | exact |");
console.log("| ---: | ---: | ---: | ---: | --- |");
for (const e of exact) {
  console.log(`| ${e.clients} | ${e.limit} | ${e.burst} | ${e.admitted} | ${e.admitted === e.limit ? "yes" : "NO"} |`);
}
