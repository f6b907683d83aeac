// Database access for functions: postgres.js on SUPABASE_DB_URL.
//
//   asUser(claims, fn, ctx?)   runs fn(sql) in a transaction as the caller,
//                              under RLS: request.jwt.claims = claims and role
//                              `authenticated` (`anon` when claims.role is anon)
//   asAdmin(fn, opts?)         runs fn(sql) in a transaction as service_role
//                              (RLS bypassed), still setting the actor's claims
//                              so the audit log records the user, not the
//                              connection
//
// Both also set the request context the audit trigger records:
//   edgeguard.request_id, edgeguard.client_ip, edgeguard.user_agent
// The work runs under `role` set transaction-locally to a role that owns no
// table (`authenticated`/`anon`, or `service_role`), never as the connection's
// owning role. Before commit, a transaction that wrote audit rows signs the
// heads of the chains it wrote (audit_checkpoint.ts; docs/security.md).
// Every setting is transaction-local (set_config(..., true)), so nothing leaks
// to the next user of a pooled connection. `prepare: false` keeps the client
// usable behind Supabase's transaction pooler (Supavisor, port 6543).
//
// Queries use postgres.js tagged templates only (values are always sent as
// parameters). A database that cannot be reached throws DatabaseUnavailable
// (the guard answers 503 UNAVAILABLE); other database errors throw
// DatabaseError carrying the SQLSTATE only. Neither ever carries SQL text,
// parameters, server messages or the connection string.
//
// The functions' handles share the isolate's one pool (connect_postgres.ts);
// postgres.js is imported on the first query, not with this module. Errors
// are classified in one place (database_error.ts).
import type postgres from "npm:postgres@3.4.9";
import { type CheckpointSigner, checkpointSigner, signCheckpoints } from "./audit_checkpoint.ts";
import { closePostgres, connectPostgres, importPostgres, POSTGRES_OPTIONS, type Sql } from "./connect_postgres.ts";
import { DatabaseMisconfigured, toDatabaseError } from "./database_error.ts";

export { DatabaseError, DatabaseMisconfigured, DatabaseUnavailable, toDatabaseError } from "./database_error.ts";

/** A postgres.js transaction handle, as passed to `fn`. */
export type Tx = postgres.TransactionSql<Record<string, never>>;

/** JWT claims of the caller (already verified by the guard). */
export interface Claims {
  sub?: string;
  role?: string;
  [claim: string]: unknown;
}

/** Request context recorded by the audit trigger. */
export interface RequestContext {
  requestId?: string;
  clientIp?: string;
  userAgent?: string;
}

/** Options of asAdmin. */
export interface AdminOptions extends RequestContext {
  /** The user on whose behalf the service acts (recorded as the audit actor). */
  actorClaims?: Claims;
}

/** Options of createDb. */
export interface DbOptions {
  /** Pool size (default: the isolate pool's, connect_postgres.ts). */
  max?: number;
  /** Seconds to wait for a connection (default 5). */
  connectTimeout?: number;
  /** Per-statement timeout inside asUser/asAdmin, in ms (default 10000; 0 = none). */
  statementTimeoutMs?: number;
  /** Signs audit checkpoints before commit (functions: from AUDIT_SIGNING_KEY); none = no checkpoints. */
  auditSigner?: CheckpointSigner;
}

/** A database handle: asUser, asAdmin, end. */
export interface Db {
  asUser<T>(claims: Claims, fn: (sql: Tx) => Promise<T>, ctx?: RequestContext): Promise<T>;
  asAdmin<T>(fn: (sql: Tx) => Promise<T>, opts?: AdminOptions): Promise<T>;
  end(): Promise<void>;
}

/** Creates a handle on `url` with a pool of its own (tests and tools; functions use asUser/asAdmin below). */
export function createDb(url: string, options: DbOptions = {}): Db {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new DatabaseMisconfigured();
  let pool: Promise<Sql> | undefined;
  const connect = () =>
    pool ??= importPostgres().then((postgres) =>
      postgres(url, {
        ...POSTGRES_OPTIONS,
        ...(options.max ? { max: options.max } : {}),
        connect_timeout: options.connectTimeout ?? POSTGRES_OPTIONS.connect_timeout,
      })
    );
  return dbOn(connect, options, async () => {
    if (pool) await (await pool).end({ timeout: 5 });
  });
}

/** A handle running its transactions on the pool `connect` gives. */
function dbOn(connect: () => Promise<Sql>, options: DbOptions, end: () => Promise<void>): Db {
  const timeout = String(options.statementTimeoutMs ?? 10000);

  async function run<T>(
    role: "anon" | "authenticated" | "service_role",
    claims: Claims | undefined,
    ctx: RequestContext | undefined,
    fn: (sql: Tx) => Promise<T>,
  ): Promise<T> {
    try {
      const sql = await connect();
      return await sql.begin(async (tx) => {
        const t = tx as unknown as Tx;
        // one round trip; `role` last so the others are set by the connection's own role
        await t`select
          set_config('request.jwt.claims', ${claims ? JSON.stringify(claims) : ""}, true),
          set_config('edgeguard.request_id', ${ctx?.requestId ?? ""}, true),
          set_config('edgeguard.client_ip', ${ctx?.clientIp ?? ""}, true),
          set_config('edgeguard.user_agent', ${ctx?.userAgent ?? ""}, true),
          set_config('statement_timeout', ${timeout}, true),
          set_config('role', ${role}, true)`;
        const result = await fn(t);
        if (options.auditSigner) await signCheckpoints(t, options.auditSigner);
        return result;
      }) as T;
    } catch (e) {
      throw toDatabaseError(e);
    }
  }

  return {
    asUser(claims, fn, ctx) {
      const role = claims.role === "anon" ? "anon" : "authenticated";
      return run(role, claims, ctx, fn);
    },
    asAdmin(fn, opts) {
      return run("service_role", opts?.actorClaims, opts, fn);
    },
    end,
  };
}

let shared: Db | undefined;

function db(): Db {
  if (shared) return shared;
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new DatabaseMisconfigured();
  // The isolate's one pool, shared with the limiter and the event writer.
  shared = dbOn(connectPostgres, { auditSigner: checkpointSigner(Deno.env.toObject()) }, closePostgres);
  return shared;
}

/** Runs fn(sql) in a transaction as the caller, under RLS. */
export async function asUser<T>(claims: Claims, fn: (sql: Tx) => Promise<T>, ctx?: RequestContext): Promise<T> {
  return await db().asUser(claims, fn, ctx);
}

/** Runs fn(sql) in a transaction as service_role, recording opts.actorClaims as the audit actor. */
export async function asAdmin<T>(fn: (sql: Tx) => Promise<T>, opts?: AdminOptions): Promise<T> {
  return await db().asAdmin(fn, opts);
}

/** Closes the shared pool (graceful shutdown, tests). */
export async function closeDb(): Promise<void> {
  const d = shared;
  shared = undefined;
  if (d) await d.end();
}
