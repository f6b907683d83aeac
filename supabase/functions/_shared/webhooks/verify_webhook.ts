// Verifies a webhook delivery in the wasm core: the endpoint name, the
// request's headers and the exact raw body bytes go in, one decision comes
// out. Nothing here parses signatures, secrets or timestamps.
//
// Endpoints: `stripe`, `shopify`, `github`, `standard` (Standard Webhooks,
// Svix, Clerk …) and `auth_hook` (Supabase Auth HTTP hooks, AUTH_HOOK_SECRET).
import { loadHandlersWasm } from "../runtime/load_handlers_wasm.ts";
import type { WebhookVerifier } from "../wasm/edgeguard_handlers.js";

/** A verified delivery. */
export interface VerifiedWebhook {
  ok: true;
  provider: string;
  scheme: string;
  /** The provider's event / delivery id (null when the provider sent none). */
  event_id: string | null;
  /**
   * Whether the signature covers `event_id`. False for Shopify and GitHub: their
   * ids travel in unsigned headers, so a captured delivery can be resent under
   * a new id (and they sign no timestamp either).
   */
  event_id_signed: boolean;
  /** The signed timestamp (Unix seconds), for Stripe and Standard Webhooks. */
  timestamp: number | null;
}

/** A refused delivery: SPEC code, its status, and a secret-free reason. */
export interface RefusedWebhook {
  ok: false;
  code: string;
  status: number;
  reason: string;
}

export type WebhookDecision = VerifiedWebhook | RefusedWebhook;

/** The environment variables the verifiers read. */
export const WEBHOOK_ENV = [
  "STRIPE_WEBHOOK_SECRET",
  "SHOPIFY_WEBHOOK_SECRET",
  "GITHUB_WEBHOOK_SECRET",
  "STANDARD_WEBHOOK_SECRET",
  "AUTH_HOOK_SECRET",
  "WEBHOOK_TIMESTAMP_TOLERANCE",
] as const;

/** The verifiers of one environment, built once. */
export interface WebhookVerifiers {
  /** Verifies `body` (raw bytes) sent to `endpoint` with `headers`, at `nowMs` (default: now). */
  verify(endpoint: string, headers: Headers, body: Uint8Array, nowMs?: number): WebhookDecision;
  /** Why each endpoint cannot verify (`{}` when all of `endpoints` are ready). */
  problems(endpoints: readonly string[]): Record<string, string>;
}

/**
 * Builds the verifiers from `env` (only the webhook variables are handed to
 * the core), loading the handlers' wasm module on the first call.
 */
export async function webhookVerifiers(env: Record<string, string | undefined>): Promise<WebhookVerifiers> {
  const picked: Record<string, string> = {};
  for (const name of WEBHOOK_ENV) {
    const v = env[name];
    if (typeof v === "string") picked[name] = v;
  }
  const inner: WebhookVerifier = new (await loadHandlersWasm()).WebhookVerifier(JSON.stringify(picked));
  return {
    verify(endpoint, headers, body, nowMs = Date.now()) {
      // Pairs, not an object: the core sees every field as sent.
      const pairs = [...headers];
      return JSON.parse(inner.verify(endpoint, JSON.stringify(pairs), body, nowMs)) as WebhookDecision;
    },
    problems(endpoints) {
      const status = JSON.parse(inner.status()) as Record<string, { ok: boolean; reason?: string }>;
      const out: Record<string, string> = {};
      for (const e of endpoints) {
        const s = status[e];
        if (!s) out[e] = "unknown webhook endpoint";
        else if (!s.ok) out[e] = s.reason ?? "misconfigured";
      }
      return out;
    },
  };
}
