// A query timestamp the core matched against RFC 3339's shape; a shape that
// names no real instant (month 13) is refused here before SQL sees it.
import { GuardError } from "../_shared/http/respond_error.ts";

/** The instant `value` names, or `fallback` when absent. */
export function readTime(
  query: URLSearchParams,
  name: string,
  fallback: Date | null,
): Date | null {
  const value = query.get(name);
  if (value === null) return fallback;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) {
    throw new GuardError(
      "VALIDATION_FAILED",
      `/query/${name}: not a valid time`,
    );
  }
  return t;
}
