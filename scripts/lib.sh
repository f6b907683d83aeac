# Shared helpers for the edgeguard scripts. Source it: `. scripts/lib.sh`.
#
# Everything a local stack needs is derived from three variables, so a second
# stack (the one `npm test` starts) can run beside a developer's `npm run dev`:
#   EDGEGUARD_STATE_DIR  state directory (default: <repo>/.local)
#   EDGEGUARD_API_PORT   function server port (default: 54321)
#   EDGEGUARD_DB_PORT    Postgres port (default: 54322)

EG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EG_ROOT

EG_STATE="${EDGEGUARD_STATE_DIR:-$EG_ROOT/.local}"
case "$EG_STATE" in /*) ;; *) EG_STATE="$EG_ROOT/$EG_STATE" ;; esac
EG_API_PORT="${EDGEGUARD_API_PORT:-54321}"
EG_DB_PORT="${EDGEGUARD_DB_PORT:-54322}"
export EDGEGUARD_STATE_DIR="$EG_STATE" EDGEGUARD_API_PORT="$EG_API_PORT" EDGEGUARD_DB_PORT="$EG_DB_PORT"

EG_PG_BIN="${EDGEGUARD_PG_BIN:-/usr/lib/postgresql/15/bin}"
EG_DENO="$EG_ROOT/node_modules/.bin/deno"
EG_DB_URL="postgresql://postgres:postgres@127.0.0.1:$EG_DB_PORT/postgres"
EG_API_URL="http://127.0.0.1:$EG_API_PORT"

# Cargo installs wasm-bindgen into $CARGO_HOME/bin (rustup puts cargo there too).
eg_cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in *":$eg_cargo_bin:"*) ;; *) PATH="$eg_cargo_bin:$PATH" ;; esac
export PATH

eg_log() { printf '%s\n' "$*" >&2; }
eg_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when root, through sudo when available,
# otherwise prints the exact command and fails.
eg_as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n true 2>/dev/null || [ -t 0 ] || eg_die "needs root (no password-less sudo); run: sudo $*"
    sudo "$@"
  else
    eg_die "needs root and sudo is missing; run as root: $*"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
eg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A short stable hash of a string (for per-clone directories outside the tree).
eg_hash() {
  printf '%s' "$1" | sha256sum | cut -c1-12
}

# True when pid $1 is alive.
eg_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null
}
