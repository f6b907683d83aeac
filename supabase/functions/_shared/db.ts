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
// postgres.js is imported on the first query (connect_postgres.ts), not with
// this module: the guard imports this module for its error classes.
import type postgres from "npm:postgres@3.4.9";
import { type CheckpointSigner, checkpointSigner, signCheckpoints } from "./audit_checkpoint.ts";
import { importPostgres, type Sql } from "./connect_postgres.ts";

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

/** The database cannot be reached (refused, timed out, down, bad credentials). Maps to 503 UNAVAILABLE. */
export class DatabaseUnavailable extends Error {
  /** SPEC error code. */
  readonly code = "UNAVAILABLE";
  /** HTTP status. */
  readonly status = 503;
  /** A log-safe cause: an errno name or SQLSTATE, never a message. */
  readonly reason: string;
  constructor(reason: string) {
    super("database unavailable");
    this.name = "DatabaseUnavailable";
    this.reason = reason;
  }
}

/** SUPABASE_DB_URL is missing or not a Postgres URL. Maps to 500 MISCONFIGURED. */
export class DatabaseMisconfigured extends Error {
  /** SPEC error code. */
  readonly code = "MISCONFIGURED";
  /** HTTP status. */
  readonly status = 500;
  constructor() {
    super("SUPABASE_DB_URL is not set to a postgres:// URL");
    this.name = "DatabaseMisconfigured";
  }
}

/** A database error other than unavailability (e.g. 42501 RLS, 23505 duplicate): SQLSTATE only. */
export class DatabaseError extends Error {
  /** The SQLSTATE, e.g. "42501", "23505". */
  readonly sqlstate: string;
  /** The violated constraint's name, when there is one. */
  readonly constraint?: string;
  constructor(sqlstate: string, constraint?: string) {
    super(`database error ${sqlstate}`);
    this.name = "DatabaseError";
    this.sqlstate = sqlstate;
    if (constraint) this.constraint = constraint;
  }
}

// errno-style codes of postgres.js and the Node/Deno socket layer that mean
// "no usable connection"
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "SASL_SIGNATURE_MISMATCH",
  "AUTH_TYPE_NOT_IMPLEMENTED",
]);
// SQLSTATEs meaning the server will not serve us now
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "28000", "28P01", "3D000"]);
const UNAVAILABLE_NAMES = new Set([
  "ConnectionRefused",
  "ConnectionReset",
  "ConnectionAborted",
  "TimedOut",
  "NotConnected",
  "AddrNotAvailable",
]);

/** Turns any error thrown by postgres.js into DatabaseUnavailable or DatabaseError (others pass through). */
export function toDatabaseError(e: unknown): unknown {
  if (e instanceof DatabaseUnavailable || e instanceof DatabaseError || e instanceof DatabaseMisconfigured) return e;
  if (!e || typeof e !== "object") return e;
  const err = e as { code?: unknown; name?: unknown; constraint_name?: unknown };
  const code = typeof err.code === "string" ? err.code : "";
  const name = typeof err.name === "string" ? err.name : "";
  if (CONNECTION_CODES.has(code) || UNAVAILABLE_NAMES.has(name)) return new DatabaseUnavailable(code || name);
  if (/^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith("08") || UNAVAILABLE_SQLSTATES.has(code)) return new DatabaseUnavailable(code);
    if (name === "PostgresError") {
      return new DatabaseError(code, typeof err.constraint_name === "string" ? err.constraint_name : undefined);
    }
  }
  return e;
}

/** Options of createDb. */
export interface DbOptions {
  /** Pool size (default 4: functions are short-lived and poolers multiplex). */
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

/** Creates a handle on `url` (tests and tools; functions use asUser/asAdmin below). */
export function createDb(url: string, options: DbOptions = {}): Db {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new DatabaseMisconfigured();
  let pool: Promise<Sql> | undefined;
  const connect = () =>
    pool ??= importPostgres().then((postgres) =>
      postgres(url, {
        prepare: false,
        max: options.max ?? 4,
        idle_timeout: 20,
        max_lifetime: 60 * 30,
        connect_timeout: options.connectTimeout ?? 5,
        onnotice: () => {},
        connection: { application_name: "edgeguard" },
      })
    );
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
    async end() {
      if (pool) await (await pool).end({ timeout: 5 });
    },
  };
}

let shared: Db | undefined;

function db(): Db {
  if (shared) return shared;
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) throw new DatabaseMisconfigured();
  shared = createDb(url, {
    max: Number(Deno.env.get("EDGEGUARD_DB_POOL") ?? "") || 4,
    auditSigner: checkpointSigner(Deno.env.toObject()),
  });
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
