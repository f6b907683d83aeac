// Instantiates the pipeline wasm module (crates/edgeguard-wasm: the Guard
// and its helpers) once per isolate. Every function imports it; what only
// some handlers call is the other module, loaded on first use
// (load_handlers_wasm.ts; docs/architecture.md, "The wasm boundary").
//
// The bytes come from a generated JSON module (a base64 string,
// scripts/build.sh), not a sibling .wasm file: `supabase functions deploy` bundles every import, so the
// module survives deploys that drop files missing from `static_files`, and
// runtimes where fetch() of a local file fails.
import { initSync } from "../wasm/edgeguard_wasm.js";
import * as wasm from "../wasm/edgeguard_wasm.js";
import WASM_BASE64 from "../wasm/edgeguard_wasm_bytes.json" with { type: "json" };
import { decodeBase64 } from "./decode_base64.ts";

export type Wasm = typeof wasm;

let loaded: Wasm | undefined;

/** Returns the instantiated wasm exports, compiling them on first use. */
export function loadWasm(): Wasm {
  if (loaded) return loaded;
  initSync({ module: decodeBase64(WASM_BASE64) });
  loaded = wasm;
  return loaded;
}
