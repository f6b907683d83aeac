// The Postgres connection the guard's own steps use (global rate limits,
// security events): postgres.js on SUPABASE_DB_URL, created on first use.
// `prepare: false` keeps it usable behind transaction poolers (Supavisor).
import postgres from "npm:postgres@3.4.9";

/** A postgres.js client. */
export type Sql = ReturnType<typeof postgres>;

let client: Sql | undefined;

/** The shared client; throws when SUPABASE_DB_URL is not set. */
export function connectPostgres(): Sql {
  if (client) return client;
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) throw new Error("SUPABASE_DB_URL is not set");
  client = postgres(url, {
    prepare: false,
    max: Number(Deno.env.get("EDGEGUARD_DB_POOL") ?? "") || 8,
    idle_timeout: 20,
    connect_timeout: 5,
    onnotice: () => {},
  });
  return client;
}
