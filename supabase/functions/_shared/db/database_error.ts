// Database errors, classified in one place: a database that cannot be
// reached is DatabaseUnavailable (the guard answers 503 UNAVAILABLE), a
// missing or malformed SUPABASE_DB_URL is DatabaseMisconfigured (500
// MISCONFIGURED), any other database error is DatabaseError carrying the
// SQLSTATE only. None of them ever carries SQL text, parameters, server
// messages or the connection string.

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

/** A log-safe description of an error: its code or class, never its text. */
export function errorCode(e: unknown): string {
  if (e && typeof e === "object" && "code" in e && typeof (e as { code: unknown }).code === "string") {
    return (e as { code: string }).code;
  }
  return e instanceof Error ? e.name : typeof e;
}
