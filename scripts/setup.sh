#!/usr/bin/env bash
# Installs what the local stack and the tests need, each only when missing,
# with one status line per item. Idempotent; a second run takes a second.
#
#   bash scripts/setup.sh           # what `npm run dev` needs
#   bash scripts/setup.sh --test    # plus pgTAP and pg_prove (for `npm test`)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) eg_die "setup.sh: unknown option $arg" ;;
  esac
done

status() { printf 'setup: %-18s %s\n' "$1" "$2" >&2; }

# --- Rust toolchain and the wasm target ------------------------------------
command -v cargo >/dev/null 2>&1 || eg_die "cargo not found: install Rust with rustup (https://rustup.rs) and re-run"
if command -v rustup >/dev/null 2>&1; then
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    status "wasm32 target" "present"
  else
    status "wasm32 target" "installing (rustup target add wasm32-unknown-unknown)"
    rustup target add wasm32-unknown-unknown >&2
  fi
else
  status "wasm32 target" "rustup not found; assuming the toolchain has wasm32-unknown-unknown"
fi

# --- wasm-bindgen CLI at exactly the version Cargo.lock pins ---------------
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
[ -n "$bindgen_version" ] || eg_die "wasm-bindgen not found in Cargo.lock"
have_bindgen="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_bindgen" = "$bindgen_version" ]; then
  status "wasm-bindgen-cli" "$bindgen_version present"
else
  status "wasm-bindgen-cli" "installing $bindgen_version (was: ${have_bindgen:-none}); takes a few minutes once"
  if ! cargo install --quiet --locked --force wasm-bindgen-cli --version "$bindgen_version" >&2; then
    status "wasm-bindgen-cli" "--locked failed (a pinned dependency is unavailable); retrying unlocked"
    cargo install --quiet --force wasm-bindgen-cli --version "$bindgen_version" >&2
  fi
  have_bindgen="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  [ "$have_bindgen" = "$bindgen_version" ] || eg_die "wasm-bindgen $bindgen_version is not on PATH after install (is ~/.cargo/bin on PATH?)"
fi

# --- npm dependencies (Deno, supabase CLI, binaryen, clients) --------------
lock_hash="$(sha256sum package-lock.json | cut -c1-64)"
marker=node_modules/.edgeguard-lock.sha256
if [ -x "$EG_DENO" ] && [ "$(cat "$marker" 2>/dev/null || true)" = "$lock_hash" ]; then
  status "npm packages" "up to date"
else
  if [ -d node_modules ] && [ -x "$EG_DENO" ] && npm ls --all >/dev/null 2>&1; then
    status "npm packages" "match package-lock.json"
  else
    status "npm packages" "installing (npm ci)"
    npm_log="$(mktemp)"
    if ! npm ci --no-audit --no-fund --loglevel=error >"$npm_log" 2>&1; then
      # npm ci refuses a lock file that lacks other platforms' optional
      # packages; npm install resolves the same pinned versions from it.
      # --no-save: it must not rewrite package-lock.json (a fresh clone stays clean).
      status "npm packages" "npm ci refused the lock file; installing with npm install --no-save"
      if ! npm install --no-save --no-audit --no-fund --loglevel=error >>"$npm_log" 2>&1; then
        cat "$npm_log" >&2
        rm -f "$npm_log"
        eg_die "npm install failed (output above)"
      fi
    fi
    rm -f "$npm_log"
  fi
  printf '%s\n' "$lock_hash" > "$marker"
fi
"$EG_DENO" --version >/dev/null 2>&1 || eg_die "deno from npm does not run: $EG_DENO"

# --- Postgres 15 -------------------------------------------------------------
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || eg_die "apt-get not found; install these packages by hand: $*"
  if [ "$apt_updated" = 0 ]; then
    eg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  eg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

if [ -x "$EG_PG_BIN/initdb" ]; then
  status "postgres 15" "present"
else
  status "postgres 15" "installing (apt-get install postgresql-15)"
  apt_install postgresql-15
  [ -x "$EG_PG_BIN/initdb" ] || eg_die "postgresql-15 installed but $EG_PG_BIN/initdb is missing"
fi

if [ "$want_test" = 1 ]; then
  if [ -f /usr/share/postgresql/15/extension/pgtap.control ] && command -v pg_prove >/dev/null 2>&1; then
    status "pgTAP + pg_prove" "present"
  else
    status "pgTAP + pg_prove" "installing (apt-get install postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl)"
    apt_install postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  fi
  # Chromium for the browser test (tests/browser): Debian's package, no browser
  # download at run time. When it cannot be installed the browser suite says so.
  if command -v chromium >/dev/null 2>&1; then
    status "chromium" "present"
  else
    status "chromium" "installing (apt-get install chromium)"
    apt_install chromium || status "chromium" "could not be installed: the browser suite will report it"
  fi
fi
