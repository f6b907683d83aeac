// Whether the function runs in production: the core's one rule (APP_ENV,
// trimmed and any case; unset on the hosted platform means production; see
// docs/platform.md). Shims never compare APP_ENV themselves.
import { loadWasm } from "./load_wasm.ts";

let processProduction: boolean | undefined;

/** `env` defaults to the process environment (read once). */
export function isProduction(env?: Record<string, string>): boolean {
  if (env) return loadWasm().appEnv(JSON.stringify(env)) === "production";
  processProduction ??= loadWasm().appEnv(JSON.stringify(Deno.env.toObject())) === "production";
  return processProduction;
}
