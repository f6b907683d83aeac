// Structured JSON log lines, one per event. Callers pass only safe fields
// (never headers, bodies or credentials); as a second line of defence every
// formatted line goes once through the core's redactor (docs/logging.md):
// e-mails, phone numbers, card numbers, JWTs, API keys, credential-named
// values and, in production, IP addresses become markers before the line is
// written. Without the redactor no line is written but a fixed notice.
import { loadWasm } from "./load_wasm.ts";
import { isProduction } from "./app_env.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission: the defaults apply
  }
}

/** Whether IPs are redacted: `EDGEGUARD_LOG_IPS`, else production (decided in the core). */
function redactsIps(): boolean {
  let production = true;
  try {
    production = isProduction(Deno.env.toObject());
  } catch {
    // no env permission: the safe reading
  }
  return loadWasm().logRedactsIps(env("EDGEGUARD_LOG_IPS"), production);
}

function redactLine(line: string): string {
  return loadWasm().redactLogLine(line, redactsIps());
}

/** Redacts personal data and credentials from `value` (strings, and objects through their JSON). */
export function redact(value: unknown): unknown {
  if (typeof value === "string") return redactLine(value);
  if (value === null || typeof value !== "object") return value;
  try {
    return JSON.parse(redactLine(JSON.stringify(value)));
  } catch {
    return "[unloggable]";
  }
}

/** Writes one JSON log line: `{level, msg, time, ...fields}` (`request_id` among them when known). */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const time = new Date().toISOString();
  let line: string;
  try {
    line = redactLine(JSON.stringify({ level, msg, time, ...fields }));
  } catch {
    // Unserialisable fields or no redactor: never write the unredacted line.
    line = JSON.stringify({ level, msg: "edgeguard: log line dropped (not serialisable or redactor unavailable)", time });
  }
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
