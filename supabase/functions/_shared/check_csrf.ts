// CSRF for cookie and form routes: hands the request's Origin,
// Sec-Fetch-Site, token and subject to the core (HMAC-signed expiring tokens,
// issued and checked in wasm). Bearer-token requests are exempt in the core.
import { parseAnswer } from "./wasm_answer.ts";
import { refusalError } from "./wasm_answer.ts";
import { loadWasm } from "./load_wasm.ts";
import type { Hardening } from "./wasm/edgeguard_wasm.js";

/** The cookie that carries an anonymous caller's CSRF subject (double-submit). */
export const CSRF_COOKIE = "__Host-edgeguard-csrf";
/** The header a client sends the token in (forms may use the field `csrf_token`). */
export const CSRF_HEADER = "x-csrf-token";

/** The subject a token is bound to: the verified user, else the CSRF cookie's value (read by the core). */
export function csrfSubject(req: Request, userId?: string | null): string | undefined {
  if (userId) return userId;
  return loadWasm().csrfCookieSubject(req.headers.get("cookie") ?? undefined) ?? undefined;
}

/** Checks CSRF for `route`; throws the core's 403 `CSRF_FAILED` refusal. */
export function checkCsrf(
  h: Hardening,
  route: string,
  req: Request,
  opts: { userId?: string | null; body?: unknown; selfOrigin?: string; nowMs?: number },
): void {
  const formToken = opts.body && typeof opts.body === "object" && !Array.isArray(opts.body)
    ? (opts.body as Record<string, unknown>).csrf_token
    : undefined;
  const token = req.headers.get(CSRF_HEADER) ?? (typeof formToken === "string" ? formToken : undefined);
  const request = {
    method: req.method,
    origin: req.headers.get("origin") ?? undefined,
    sec_fetch_site: req.headers.get("sec-fetch-site") ?? undefined,
    token,
    // The core reads the cookie subject and the Bearer exemption from the raw headers.
    subject: opts.userId ?? undefined,
    cookie: req.headers.get("cookie") ?? undefined,
    authorization: req.headers.get("authorization") ?? undefined,
    self_origin: opts.selfOrigin,
  };
  const a = parseAnswer(h.csrfCheck(route, JSON.stringify(request), opts.nowMs ?? Date.now()));
  if (!a.ok) throw refusalError(a);
}

/** A token for `route` bound to `subject`, and its lifetime. */
export function issueCsrfToken(
  h: Hardening,
  route: string,
  subject: string,
  nowMs = Date.now(),
): { token: string; expires_in_s: number } {
  const a = parseAnswer<{ token: string; expires_in_s: number }>(h.csrfIssue(route, subject, nowMs));
  if (!a.ok) throw refusalError(a);
  return { token: a.token, expires_in_s: a.expires_in_s };
}

/** The `Set-Cookie` value that gives an anonymous browser its CSRF subject. */
export function csrfCookie(subject: string, maxAgeS: number): string {
  return `${CSRF_COOKIE}=${subject}; Path=/; Max-Age=${maxAgeS}; Secure; HttpOnly; SameSite=Strict`;
}

