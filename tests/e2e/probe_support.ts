// Shared helpers of the request-check end-to-end tests (the request-probe fixture).
import * as assert from "./assert.ts";
import { devKeys, errorBody, functionsUrl } from "./stack.ts";

/** The probe function's URL on `base` (the stack's functions URL by default). */
export const probe = (path = "", base = functionsUrl) => `${base}/request-probe${path}`;

/** A random public IPv4 address (11/8), so each test has its own buckets: private ones are no client IP. */
export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `11.${b[0]}.${b[1]}.${b[2] || 1}`;
}

/** Every security header SPEC §6 requires, with the exact values the core sends. */
export function assertSecurityHeaders(res: Response, what: string): void {
  const h = res.headers;
  assert.equal(h.get("x-content-type-options"), "nosniff", what);
  assert.equal(h.get("x-frame-options"), "DENY", what);
  assert.equal(h.get("strict-transport-security"), "max-age=31536000; includeSubDomains", what);
  assert.equal(h.get("referrer-policy"), "no-referrer", what);
  assert.ok((h.get("permissions-policy") ?? "").includes("geolocation=()"), `${what}: permissions-policy`);
  assert.equal(h.get("content-security-policy"), "default-src 'none'; frame-ancestors 'none'", what);
  assert.equal(h.get("cross-origin-opener-policy"), "same-origin", what);
  assert.equal(h.get("cross-origin-resource-policy"), "same-origin", what);
  assert.equal(h.get("x-xss-protection"), "0", what);
  assert.ok(/^[A-Za-z0-9._-]{1,128}$/.test(h.get("x-request-id") ?? ""), `${what}: x-request-id`);
  assert.ok(!h.has("x-powered-by"), `${what}: no x-powered-by`);
}

/** Checks an error response: status, SPEC body, headers, no leak; returns the body. */
export async function assertError(res: Response, status: number, code: string) {
  assert.equal(res.status, status, `${code}: status`);
  assertSecurityHeaders(res, code);
  const text = await res.clone().text();
  await assertNoLeak(text, code);
  const body = await errorBody(res) as { code: string; message: string; request_id: string; details?: unknown; hint?: string };
  assert.equal(body.code, code);
  assert.equal(body.request_id, res.headers.get("x-request-id"), "request_id = x-request-id");
  return body;
}

const STACK = [/\bat \S+ \(/, /\bat (file|https?|ext):\/\//, /\.(ts|js|rs):\d+(:\d+)?/, /\bstack\b/i, /\b(TypeError|ReferenceError|RangeError|SyntaxError|PostgresError)\b/, /panicked at/];
const SQL = [/\b(select|insert|update|delete)\b[\s\S]*\b(from|into|set|where)\b/i, /\bSQLSTATE\b/i, /\b(relation|column|function) "[^"]+"/i, /syntax error at or near/i, /private\.rate_limit/, /postgres(ql)?:\/\//i];

/** Fails when `text` shows a stack trace, SQL text, or any of the stack's secrets. */
export async function assertNoLeak(text: string, what: string, extraSecrets: string[] = []): Promise<void> {
  for (const re of STACK) assert.ok(!re.test(text), `${what}: stack trace ${re} in ${text}`);
  for (const re of SQL) assert.ok(!re.test(text), `${what}: SQL ${re} in ${text}`);
  const k = await devKeys();
  const secrets = [
    ...Object.values(k.env).filter((v) => v.length >= 16),
    String((k.private_jwk as { d?: string }).d ?? "unset-private-d"),
    ...extraSecrets.filter((s) => s.length >= 8),
  ];
  for (const s of secrets) assert.ok(!text.includes(s), `${what}: a secret appears in the body`);
}
