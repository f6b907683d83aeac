// The core's checks and minting for creation and rotation (edgeguard-core
// api_keys: body rules, scope ceiling, CSPRNG, keyed hash). The plaintext key
// travels only from here into the one answer that shows it.
import { loadWasm } from "../_shared/runtime/load_wasm.ts";
import { parseAnswer, refusalError } from "../_shared/runtime/parse_answer.ts";

/** A minted key: plaintext (shown once), public prefix, stored hash. */
export interface Minted {
  key: string;
  prefix: string;
  key_hash: string;
}

/** A creation body after the core's checks. */
export interface CreateSpec {
  name: string;
  scopes: string[];
  expires_in_s: number | null;
  uses: number | null;
  refill: { amount: number; interval_s: number } | null;
  rate_limit: { limit: number; window_s: number } | null;
}

const envJson = () => JSON.stringify(Deno.env.toObject());

/** Checks `body` against the creator's permissions and mints the key; throws the core's refusal. */
export function mintForCreate(body: Uint8Array, held: readonly string[]): Minted & { spec: CreateSpec } {
  const a = parseAnswer<Minted & { spec: CreateSpec }>(loadWasm().apiKeyCreate(body, JSON.stringify(held), envJson()));
  if (!a.ok) throw refusalError(a);
  return a;
}

/** Checks a rotation body (`{"overlap_s"?}`) and mints the new key. */
export function mintForRotate(body: Uint8Array): Minted & { overlap_s: number } {
  const a = parseAnswer<Minted & { overlap_s: number }>(loadWasm().apiKeyRotate(body, envJson()));
  if (!a.ok) throw refusalError(a);
  return a;
}
