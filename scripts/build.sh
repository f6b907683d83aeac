#!/usr/bin/env bash
# Builds edgeguard-wasm and generates the module the Deno shims import:
#   cargo (wasm32-unknown-unknown, release) -> wasm-bindgen (--target web)
#   -> wasm-opt (binaryen from npm) -> supabase/functions/_shared/wasm/
# The wasm bytes are embedded as base64 in a generated TypeScript module, so
# `supabase functions deploy` bundles them like any other import: no sibling
# .wasm file to fetch or to list in static_files.
set -euo pipefail
cd "$(dirname "$0")/.."

out=supabase/functions/_shared/wasm
mkdir -p "$out" .local
# A private scratch dir per build, so two builds in one tree cannot collide.
tmp=$(mktemp -d .local/build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

log() { printf 'build: %s\n' "$*"; }

cargo build --quiet --release --target wasm32-unknown-unknown -p edgeguard-wasm
raw=target/wasm32-unknown-unknown/release/edgeguard_wasm.wasm

wasm-bindgen --target web --out-dir "$tmp" --out-name edgeguard_wasm "$raw"

opt="$tmp/edgeguard_wasm_bg.wasm"
if [ -x node_modules/.bin/wasm-opt ]; then
  # -O3 keeps the crypto hot paths fast; size is reported below.
  # EDGEGUARD_WASM_PROFILE=1 keeps function names, for V8 profiles (--v8-flags=--prof).
  keep=--strip-debug
  [ -n "${EDGEGUARD_WASM_PROFILE:-}" ] && keep=-g
  node_modules/.bin/wasm-opt -O3 "$keep" --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals "$opt" -o "$tmp/opt.wasm"
  mv "$tmp/opt.wasm" "$opt"
else
  log "wasm-opt not found (npm install provides it); shipping the unoptimised module"
fi

# The glue, with its fetch-based default loader left unused: we always call initSync.
mv "$tmp/edgeguard_wasm.js" "$out/edgeguard_wasm.js"
mv "$tmp/edgeguard_wasm.d.ts" "$out/edgeguard_wasm.d.ts"
# The bytes as one base64 JSON string: a JSON module, because Deno loads it
# several times faster than the same string in a .ts/.js module (no
# TypeScript emit, no import scan of 1.5 MB of source: scripts/bench/cold_start.ts).
{
  printf '"'
  base64 -w0 "$opt"
  printf '"\n'
} > "$tmp/edgeguard_wasm_bytes.json"
# Glue first, bytes last, each by rename: a reader never sees half a module.
mv "$tmp/edgeguard_wasm_bytes.json" "$out/edgeguard_wasm_bytes.json"
rm -f "$out/edgeguard_wasm_bytes.ts" # the former form

size=$(wc -c < "$opt")
gz=$(gzip -9c "$opt" | wc -c)
log "wasm ${size} bytes raw, ${gz} bytes gzip -> $out"
