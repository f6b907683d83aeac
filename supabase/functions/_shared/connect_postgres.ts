// The Postgres connection the guard's own steps use (global rate limits,
// security events): postgres.js on SUPABASE_DB_URL, created on first use.
import postgres from "npm:postgres@3.4.9";

/** A postgres.js client. */
export type Sql = ReturnType<typeof postgres>;

/**
 * The client options. `prepare: false` keeps it usable behind transaction
 * poolers (Supavisor). `synchronous_commit = off` for these connections only:
 * a limiter check does not wait for its WAL flush (several ms on a plain
 * disk). Locks and visibility are unchanged, so limits stay exact; a database
 * crash can forget the last fraction of a second of counts (more lenient for
 * that moment, never stricter). A pooler that drops startup parameters just
 * keeps the server default.
 */
export const POSTGRES_OPTIONS = {
  prepare: false,
  idle_timeout: 20,
  connect_timeout: 5,
  onnotice: () => {},
  connection: { synchronous_commit: "off", application_name: "edgeguard" },
} as const;

let client: Sql | undefined;

/** The shared client; throws when SUPABASE_DB_URL is not set. */
export function connectPostgres(): Sql {
  if (client) return client;
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) throw new Error("SUPABASE_DB_URL is not set");
  client = postgres(url, { ...POSTGRES_OPTIONS, max: Number(Deno.env.get("EDGEGUARD_DB_POOL") ?? "") || 8 });
  return client;
}
