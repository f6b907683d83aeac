// Instantiates the handlers' wasm module (crates/edgeguard-wasm-handlers:
// webhook verification, API key minting, audit checkpoint signing, alerts,
// erasure tokens) once per isolate, on first use: its glue and bytes are
// imported dynamically, so a function whose requests never call it neither
// parses nor compiles it (docs/architecture.md, "The wasm boundary"). The
// specifiers are literal, so `supabase functions deploy` still bundles them
// (as it does postgres.js, db/connect_postgres.ts).
import type * as handlers from "../wasm/edgeguard_handlers.js";
import { decodeBase64 } from "./decode_base64.ts";

export type HandlersWasm = typeof handlers;

let loading: Promise<HandlersWasm> | undefined;

/** The instantiated exports of the handlers' module, imported and compiled on the first call. */
export function loadHandlersWasm(): Promise<HandlersWasm> {
  loading ??= (async () => {
    const [glue, bytes] = await Promise.all([
      import("../wasm/edgeguard_handlers.js"),
      import("../wasm/edgeguard_handlers_bytes.json", { with: { type: "json" } }),
    ]);
    glue.initSync({ module: decodeBase64(bytes.default) });
    return glue;
  })().catch((e) => {
    loading = undefined; // the next call tries again
    throw e;
  });
  return loading;
}
