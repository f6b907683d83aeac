// The JSON answers of the wasm functions outside the request pipeline (API
// key minting, erasure tokens, audit checkpoints), and a refusal as a GuardError.
import { GuardError } from "../http/respond_error.ts";

/** A header list as the core returns it. */
export type HeaderPairs = [string, string][];

/** A refusal: `{ok:false, status, code, reason, headers, details?}`. */
export interface Refusal {
  ok: false;
  status: number;
  code: string;
  reason: string;
  headers?: HeaderPairs;
  details?: unknown;
}

/** Any answer: `{ok:true, ...}` or a refusal. */
export type Answer<T> = ({ ok: true } & T) | Refusal;

/** The plain allow most checks answer, parsed once (frozen: shared by every request). */
const OK_JSON = '{"ok":true}';
const OK: { ok: true } = Object.freeze({ ok: true as const });

/** Parses a wasm answer (the core always returns JSON); the plain `{"ok":true}` without parsing. */
export function parseAnswer<T>(json: string): Answer<T> {
  if (json === OK_JSON) return OK as Answer<T>;
  return JSON.parse(json) as Answer<T>;
}

/** The GuardError for a refusal, carrying its headers (e.g. `Retry-After`) and details. */
export function refusalError(r: Refusal): GuardError {
  return new GuardError(r.code, r.reason, r.details, r.headers);
}
