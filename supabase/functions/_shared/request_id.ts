// The request id every response and log line carries.

/** Returns a fresh request id. */
export function newRequestId(): string {
  return crypto.randomUUID();
}
