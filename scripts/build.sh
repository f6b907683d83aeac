#!/usr/bin/env bash
# Builds the two wasm modules and generates what the Deno shims import:
#   cargo (wasm32-unknown-unknown, release) -> wasm-bindgen (--target web)
#   -> wasm-opt (binaryen from npm) -> supabase/functions/_shared/wasm/
# Two modules (docs/architecture.md, "The wasm boundary"):
#   edgeguard_wasm      crates/edgeguard-wasm, the request pipeline: loaded by
#                       every function (_shared/runtime/load_wasm.ts)
#   edgeguard_handlers  crates/edgeguard-wasm-handlers, what some handlers
#                       call: loaded on first use only
#                       (_shared/runtime/load_handlers_wasm.ts)
# Each module's wasm bytes are embedded as base64 in a generated JSON module,
# so `supabase functions deploy` bundles them like any other import: no
# sibling .wasm file to fetch or to list in static_files.
set -euo pipefail
cd "$(dirname "$0")/.."

out=supabase/functions/_shared/wasm
mkdir -p "$out" .local
# A private scratch dir per build, so two builds in one tree cannot collide.
tmp=$(mktemp -d .local/build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

log() { printf 'build: %s\n' "$*"; }

# The pipeline module is built with LLVM's inline threshold at 75 (its "s"
# level's; 250 at opt-level 3) for every crate: 24.6 KB gzip smaller with the
# identity cases (new and repeated ES256 tokens, HS256) and the guard
# overhead unchanged. The handlers' module keeps the default: there the same
# flag made webhook verification (HMAC-SHA256 over the body) 1.5x slower
# (BENCHMARKS.md, "Cold start and footprint"). Rustflags apply to a whole
# build, so the pipeline has a target directory of its own; its Cargo
# profile, `pipeline`, also takes edgeguard-core at "z" (Cargo.toml).
pipeline_target=target/wasm-pipeline
RUSTFLAGS="${RUSTFLAGS:-} -C llvm-args=-inline-threshold=75" \
  cargo build --quiet --profile pipeline --target wasm32-unknown-unknown --target-dir "$pipeline_target" -p edgeguard-wasm
cargo build --quiet --release --target wasm32-unknown-unknown -p edgeguard-wasm-handlers

# generate TARGET_DIR PROFILE CRATE_FILE_NAME MODULE_NAME: wasm-bindgen, wasm-opt, then the glue
# (.js, .d.ts) and the bytes (NAME_bytes.json) into $out. Sets $size and $gz.
generate() {
  local raw="$1/wasm32-unknown-unknown/$2/$3.wasm" name="$4"
  wasm-bindgen --target web --out-dir "$tmp" --out-name "$name" "$raw"
  local opt="$tmp/${name}_bg.wasm"
  if [ -x node_modules/.bin/wasm-opt ]; then
    # -O3 keeps the crypto hot paths fast; size is reported below.
    # --one-caller-inline-max-function-size 0: binaryen otherwise inlines every
    # function that has one caller, whatever its size (Guard's constructor
    # became one 77 KB function). V8 compiles wasm lazily, function by
    # function, on first call, so a fresh isolate compiled all of that merged
    # code, error paths included, before its first response: without it the
    # first Guard and the first request take ~8 ms less, the module 7 KB
    # gzip less, and the steady state is unchanged (BENCHMARKS.md, "Cold
    # start and footprint").
    # EDGEGUARD_WASM_PROFILE=1 keeps function names, for V8 profiles (--v8-flags=--prof).
    local keep=--strip-debug
    [ -n "${EDGEGUARD_WASM_PROFILE:-}" ] && keep=-g
    node_modules/.bin/wasm-opt -O3 --one-caller-inline-max-function-size 0 "$keep" --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals "$opt" -o "$tmp/opt.wasm"
    mv "$tmp/opt.wasm" "$opt"
  else
    log "wasm-opt not found (npm install provides it); shipping the unoptimised $name"
  fi
  # The glue, with its fetch-based default loader left unused: we always call initSync.
  mv "$tmp/$name.js" "$out/$name.js"
  mv "$tmp/$name.d.ts" "$out/$name.d.ts"
  # The bytes as one base64 JSON string: a JSON module, because Deno loads it
  # several times faster than the same string in a .ts/.js module (no
  # TypeScript emit, no import scan of 1.5 MB of source: scripts/bench/cold_start.ts).
  {
    printf '"'
    base64 -w0 "$opt"
    printf '"\n'
  } > "$tmp/${name}_bytes.json"
  # Glue first, bytes last, each by rename: a reader never sees half a module.
  mv "$tmp/${name}_bytes.json" "$out/${name}_bytes.json"
  size=$(wc -c < "$opt")
  gz=$(gzip -9c "$opt" | wc -c)
}

generate "$pipeline_target" pipeline edgeguard_wasm edgeguard_wasm
log "edgeguard_wasm (the pipeline, loaded by every function): ${size} bytes raw, ${gz} bytes gzip -> $out"
generate target release edgeguard_wasm_handlers edgeguard_handlers
log "edgeguard_handlers (loaded on first use by the handlers that call it): ${size} bytes raw, ${gz} bytes gzip -> $out"
rm -f "$out/edgeguard_wasm_bytes.ts" # the former form
