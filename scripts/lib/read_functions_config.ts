// Reads the `[functions.<name>]` tables of a supabase/config.toml with a TOML
// parser: `enabled` and `verify_jwt`, the two keys the local gateway honours
// as the platform does (docs/platform.md §12). Values that are not booleans
// are ignored (the Supabase CLI would refuse them).
import { parse } from "npm:smol-toml@1.9.1";

/** One function's settings; an absent key is the platform default (true). */
export interface FunctionConfig {
  enabled?: boolean;
  verifyJwt?: boolean;
}

/** Every `[functions.<name>]` table of `toml` (throws on TOML that does not parse). */
export function readFunctionsConfig(toml: string): Map<string, FunctionConfig> {
  const out = new Map<string, FunctionConfig>();
  const functions = (parse(toml) as { functions?: unknown }).functions;
  if (!functions || typeof functions !== "object") return out;
  for (const [name, table] of Object.entries(functions as Record<string, unknown>)) {
    if (!table || typeof table !== "object") continue;
    const t = table as Record<string, unknown>;
    const config: FunctionConfig = {};
    if (typeof t.enabled === "boolean") config.enabled = t.enabled;
    if (typeof t.verify_jwt === "boolean") config.verifyJwt = t.verify_jwt;
    out.set(name, config);
  }
  return out;
}
