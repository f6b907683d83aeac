// Small assertions for the e2e tests (no jsr:@std here; node:assert would need @types/node).

export class AssertionError extends Error {
  override name = "AssertionError";
}

function show(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => isDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Fails unless `actual` is `expected` (Object.is). */
export function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`expected ${show(expected)}, got ${show(actual)}${message ? `: ${message}` : ""}`);
  }
}

/** Fails when `actual` is `unexpected`. */
export function notEqual(actual: unknown, unexpected: unknown, message?: string): void {
  if (Object.is(actual, unexpected)) {
    throw new AssertionError(`expected anything but ${show(unexpected)}${message ? `: ${message}` : ""}`);
  }
}

/** Fails unless both values have the same JSON-like structure. */
export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!isDeepEqual(actual, expected)) {
    throw new AssertionError(`expected ${show(expected)}, got ${show(actual)}${message ? `: ${message}` : ""}`);
  }
}

/** Fails unless `value` is truthy. */
export function ok(value: unknown, message?: string): asserts value {
  if (!value) throw new AssertionError(message ?? `expected a truthy value, got ${show(value)}`);
}

/** Fails unless `text` matches `pattern`. */
export function match(text: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(text)) throw new AssertionError(`${show(text)} does not match ${pattern}${message ? `: ${message}` : ""}`);
}

/** Fails when `text` matches `pattern`. */
export function doesNotMatch(text: string, pattern: RegExp, message?: string): void {
  if (pattern.test(text)) throw new AssertionError(`${show(text)} matches ${pattern}${message ? `: ${message}` : ""}`);
}
