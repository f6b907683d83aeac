// Structured JSON log lines, one per event. Callers pass only safe fields
// (never headers, bodies or credentials); as a second line of defence, fields
// whose name says credential and values shaped like one are redacted.
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Field names whose values are never logged. */
const SECRET_NAME = /authorization|cookie|token|secret|password|passwd|api[-_]?key|apikey|signature|credential|private|jwt|session/i;

/** Values that look like a credential wherever they appear. */
const SECRET_VALUE = [
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(\.[A-Za-z0-9_-]*)?/g, // JWT / JWS
  /\b(sb_(publishable|secret)_|egk_|sk_(live|test)_|whsec_|ghp_|github_pat_)[A-Za-z0-9_-]+/g, // API keys, webhook secrets
  /\bBearer\s+\S+/gi,
  /postgres(ql)?:\/\/[^\s"']+/gi, // connection strings carry passwords
];

const REDACTED = "[redacted]";

/** Redacts credential-like content from `value` (deeply, for objects). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    let s = value;
    for (const re of SECRET_VALUE) s = s.replace(re, REDACTED);
    return s;
  }
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_NAME.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Writes one JSON log line: `{level, msg, time, ...fields}` (`request_id` among them when known). */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const safe = redact(fields) as Record<string, unknown>;
  const line = JSON.stringify({ level, msg: redact(msg), time: new Date().toISOString(), ...safe });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
