// Postgres connections of the shared code: postgres.js on SUPABASE_DB_URL,
// created on first use, one pool per isolate for each kind.
//
// - connectPostgres(): durable (server defaults); for data that must survive
//   a crash once committed (webhook deliveries, lockouts, events).
// - connectLimiterPostgres(): the global rate limiter only. Its sessions set
//   `synchronous_commit = off`: a check does not wait for its WAL flush
//   (several ms on a plain disk). Locks and visibility are unchanged, so
//   limits stay exact; a database crash can forget the last fraction of a
//   second of counts (more lenient for that moment, never stricter). A pooler
//   that drops startup parameters simply keeps the server default.
//
// postgres.js itself is imported on first use, not with this module: most
// requests of most functions never touch the database, and loading the driver
// costs a fresh isolate tens of milliseconds (scripts/bench/cold_start.ts).
// The specifier stays static and exactly pinned, so the deploy bundler
// includes it.
import type postgres from "npm:postgres@3.4.9";

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

/** Options of every client: no prepared statements (transaction poolers such as Supavisor), bounded connect time. */
export const POSTGRES_OPTIONS = {
  prepare: false,
  idle_timeout: 20,
  connect_timeout: 5,
  onnotice: () => {},
  connection: { application_name: "edgeguard" },
} as const;

/** Options of the limiter's client. */
export const LIMITER_POSTGRES_OPTIONS = {
  ...POSTGRES_OPTIONS,
  connection: { application_name: "edgeguard-limiter", synchronous_commit: "off" },
} as const;

let client: Promise<Sql> | undefined;
let limiterClient: Promise<Sql> | undefined;

function databaseUrl(): string {
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) throw new Error("SUPABASE_DB_URL is not set");
  return url;
}

function poolSize(): number {
  return Number(Deno.env.get("EDGEGUARD_DB_POOL") ?? "") || 8;
}

/** The shared durable client; throws (synchronously) when SUPABASE_DB_URL is not set. */
export function connectPostgres(): Promise<Sql> {
  const url = databaseUrl();
  client ??= importPostgres().then((postgres) => postgres(url, { ...POSTGRES_OPTIONS, max: poolSize() }));
  return client;
}

/** The global rate limiter's client (no WAL flush wait); throws (synchronously) when SUPABASE_DB_URL is not set. */
export function connectLimiterPostgres(): Promise<Sql> {
  const url = databaseUrl();
  limiterClient ??= importPostgres().then((postgres) => postgres(url, { ...LIMITER_POSTGRES_OPTIONS, max: poolSize() }));
  return limiterClient;
}
