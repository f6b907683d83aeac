// The wasm ErasureConfirm of this isolate (built once from the environment:
// CSRF_SECRET, else SECRET_KEY). I/O only: token format, binding and expiry
// live in edgeguard_core::erasure.
import { loadHandlersWasm } from "../_shared/runtime/load_handlers_wasm.ts";
import { parseAnswer, refusalError } from "../_shared/runtime/parse_answer.ts";
import type { ErasureConfirm } from "../_shared/wasm/edgeguard_handlers.js";

let shared: ErasureConfirm | undefined;

async function confirmer(): Promise<ErasureConfirm> {
  return shared ??= new (await loadHandlersWasm()).ErasureConfirm(JSON.stringify(Deno.env.toObject()));
}

/** Issue and check, throwing the core's refusal (403 FORBIDDEN, 500 MISCONFIGURED) as a GuardError. */
export function eraseConfirm() {
  return {
    async issue(userId: string, nowMs = Date.now()) {
      const a = parseAnswer<{ token: string; expires_at_s: number; expires_in_s: number }>(
        (await confirmer()).issue(userId, nowMs),
      );
      if (!a.ok) throw refusalError(a);
      return a;
    },
    async check(token: string, userId: string, nowMs = Date.now()): Promise<void> {
      const a = parseAnswer((await confirmer()).check(token, userId, nowMs));
      if (!a.ok) throw refusalError(a);
    },
  };
}
