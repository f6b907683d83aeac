// Tiny assertions for the shim tests (no jsr: std available).

/** Throws `msg` unless `cond`. */
export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws unless `a === b`. */
export function eq<T>(a: T, b: T, msg = ""): void {
  if (a !== b) throw new Error(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

/** 32 random bytes as hex: a fresh secret per test run. */
export function randomSecret(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}
