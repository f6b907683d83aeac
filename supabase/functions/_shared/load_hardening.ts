// Builds the hardening state of one function (once per isolate): the route
// table and the `Hardening` object (CORS, headers, limits, body, CSRF) from
// the function's policy.json and the environment.
import { loadWasm } from "./load_wasm.ts";
import { parseAnswer } from "./wasm_answer.ts";
import type { Hardening, Routes } from "./wasm/edgeguard_wasm.js";

/** A usable hardening state, or why the function is misconfigured. */
export type HardeningSetup =
  | { ok: true; routes: Routes; hardening: Hardening }
  | { ok: false; reason: string };

/** Validates `policy` and `env` in the core; never throws. */
export function loadHardening(policy: unknown, env: Record<string, string>): HardeningSetup {
  try {
    const wasm = loadWasm();
    const routes = new wasm.Routes(JSON.stringify(policy));
    const sections = parseAnswer<{ sections: unknown }>(routes.sections());
    if (!sections.ok) return { ok: false, reason: sections.reason };
    const hardening = new wasm.Hardening(JSON.stringify(sections.sections), JSON.stringify(env));
    const status = parseAnswer<Record<never, never>>(hardening.status());
    if (!status.ok) return { ok: false, reason: status.reason };
    return { ok: true, routes, hardening };
  } catch (e) {
    return { ok: false, reason: `wasm: ${e instanceof Error ? e.message : String(e)}` };
  }
}

let fallback: Hardening | undefined;

/** Default security headers only (no CORS): for responses of a misconfigured function. */
export function fallbackHardening(): Hardening {
  fallback ??= new (loadWasm().Hardening)("{}", "{}");
  return fallback;
}
