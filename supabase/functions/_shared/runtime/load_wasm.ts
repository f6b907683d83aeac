// Instantiates the edgeguard wasm module once per isolate.
//
// The bytes come from a generated JSON module (a base64 string,
// scripts/build.sh), not a sibling .wasm file: `supabase functions deploy` bundles every import, so the
// module survives deploys that drop files missing from `static_files`, and
// runtimes where fetch() of a local file fails.
import { initSync } from "../wasm/edgeguard_wasm.js";
import * as wasm from "../wasm/edgeguard_wasm.js";
import WASM_BASE64 from "../wasm/edgeguard_wasm_bytes.json" with { type: "json" };

export type Wasm = typeof wasm;

let loaded: Wasm | undefined;

/** Returns the instantiated wasm exports, compiling them on first use. */
export function loadWasm(): Wasm {
  if (loaded) return loaded;
  initSync({ module: decodeBase64(WASM_BASE64) });
  loaded = wasm;
  return loaded;
}

function decodeBase64(text: string): Uint8Array {
  const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
