// Structured JSON log lines. Callers pass only safe fields: never headers,
// tokens, keys or bodies.
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Writes one JSON log line. */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
