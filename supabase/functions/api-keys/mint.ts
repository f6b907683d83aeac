// The core's checks and minting for creation and rotation (edgeguard-core
// api_keys: body rules, scope ceiling, CSPRNG, keyed hash). The plaintext key
// travels only from here into the one answer that shows it.
import { loadHandlersWasm } from "../_shared/runtime/load_handlers_wasm.ts";
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
export async function mintForCreate(body: Uint8Array, held: readonly string[]): Promise<Minted & { spec: CreateSpec }> {
  const wasm = await loadHandlersWasm();
  const a = parseAnswer<Minted & { spec: CreateSpec }>(wasm.apiKeyCreate(body, JSON.stringify(held), envJson()));
  if (!a.ok) throw refusalError(a);
  return a;
}

/** Checks a rotation body (`{"overlap_s"?}`) and mints the new key. */
export async function mintForRotate(body: Uint8Array): Promise<Minted & { overlap_s: number }> {
  const wasm = await loadHandlersWasm();
  const a = parseAnswer<Minted & { overlap_s: number }>(wasm.apiKeyRotate(body, envJson()));
  if (!a.ok) throw refusalError(a);
  return a;
}
