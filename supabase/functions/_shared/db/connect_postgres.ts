// The isolate's one Postgres pool: postgres.js on SUPABASE_DB_URL, created on
// first use and shared by everything that queries (asUser/asAdmin, the global
// limiter, security events, webhook de-duplication).
//
// postgres.js itself is imported on first use, not with this module: most
// requests of most functions never touch the database, and loading the driver
// costs a fresh isolate tens of milliseconds (scripts/bench/cold_start.ts).
// The specifier stays static and exactly pinned, so the deploy bundler
// includes it.
import type postgres from "npm:postgres@3.4.9";
import { DatabaseMisconfigured } from "./database_error.ts";

/** A postgres.js client. */
export type Sql = ReturnType<typeof postgres>;

/** postgres.js, imported once, on first use. */
export function importPostgres(): Promise<typeof postgres> {
  driver ??= import("npm:postgres@3.4.9").then((m) => m.default, (e) => {
    driver = undefined;
    throw e;
  });
  return driver;
}
let driver: Promise<typeof postgres> | undefined;

/** The pool size when `EDGEGUARD_DB_POOL` does not set one. */
export const DEFAULT_POOL_SIZE = 8;

/**
 * Options of every pool: no prepared statements (transaction poolers such as
 * Supavisor), bounded connect time and connection lifetime.
 */
export const POSTGRES_OPTIONS = {
  prepare: false,
  max: DEFAULT_POOL_SIZE,
  idle_timeout: 20,
  max_lifetime: 60 * 30,
  connect_timeout: 5,
  onnotice: () => {},
  connection: { application_name: "edgeguard" },
} as const;

let pool: Promise<Sql> | undefined;

/**
 * The isolate's pool; throws DatabaseMisconfigured (synchronously) when
 * SUPABASE_DB_URL is not a postgres:// URL.
 */
export function connectPostgres(): Promise<Sql> {
  if (pool) return pool;
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new DatabaseMisconfigured();
  const max = Number(Deno.env.get("EDGEGUARD_DB_POOL") ?? "") || DEFAULT_POOL_SIZE;
  pool = importPostgres().then((postgres) => postgres(url, { ...POSTGRES_OPTIONS, max }));
  return pool;
}

/** Closes the pool (graceful shutdown, tests); the next query opens a new one. */
export async function closePostgres(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await (await p).end({ timeout: 5 });
}
