#!/usr/bin/env bash
# `npm run bench`: the benchmarks of BENCHMARKS.md, each side by side with its
# anchor in one process, printing Markdown tables with ratios.
#   identity        guard() vs @supabase/server withSupabase({auth:'user'})
#   cold start      fresh Deno processes: import + N = 1..1000 requests, same
#                   pair; memory per isolate after 10 000 distinct tokens
#   over HTTP       bare / edgeguard / @supabase/server functions served side
#                   by side by scripts/serve.ts: cost each guard adds, where
#                   the HTTP path's extra cost goes, fresh servers
#   guard overhead  bare handler vs guard() with headers, CORS, limits, body
#   webhooks        wasm verification vs stripe / standardwebhooks SDKs
#   limiter         Postgres limiter checks/s at 1, 16, 64 clients (own database)
#   auth hook cold start  a fresh process answers one signed hook request (same database)
# Output is also written to .local/bench/results.md.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"
export NO_COLOR=1

out="$EG_ROOT/.local/bench"
mkdir -p "$out"
bash scripts/setup.sh || exit 1
bash scripts/build.sh || exit 1

results="$out/results.md"
{
  echo "# edgeguard benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "machine: $(nproc) cores, $(uname -m); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} > "$results"

run() { # title, command...
  local title="$1"
  shift
  printf '\n== %s\n' "$title"
  "$@" 2>&1 | tee -a "$results"
  return "${PIPESTATUS[0]}"
}

status=0
run "identity" "$EG_DENO" run -A scripts/bench/identity.ts || status=1
run "cold start" "$EG_DENO" run -A scripts/bench/cold_start.ts || status=1
run "native reference" cargo run --quiet --release -p edgeguard-core --example verify_bench || status=1
run "over HTTP" "$EG_DENO" run -A scripts/bench/http.ts || status=1
run "guard overhead" "$EG_DENO" run -A scripts/bench/guard_overhead.ts || status=1
run "webhooks" "$EG_DENO" run -A scripts/bench/webhooks.ts || status=1

# The limiter needs a migrated database of its own (never a running dev stack's).
bench_state="$EG_ROOT/.local/bench-stack"
port="${EDGEGUARD_BENCH_DB_PORT:-55990}"
bench_env=(env EDGEGUARD_STATE_DIR="$bench_state" EDGEGUARD_DB_PORT="$port" EDGEGUARD_PG_FAST=1)
trap '"${bench_env[@]}" bash scripts/pg.sh stop >/dev/null 2>&1 || true' EXIT
if "${bench_env[@]}" bash scripts/pg.sh start >/dev/null && "${bench_env[@]}" bash scripts/pg.sh recreate-db postgres >/dev/null; then
  run "limiter" "$EG_DENO" run -A scripts/bench/limiter.ts --db "postgresql://postgres:postgres@127.0.0.1:$port/postgres" || status=1
  run "auth hook cold start" "$EG_DENO" run -A scripts/bench/hook_cold_start.ts --db "postgresql://postgres:postgres@127.0.0.1:$port/postgres" || status=1
  run "api keys" "$EG_DENO" run -A scripts/bench/api_keys.ts --db "postgresql://postgres:postgres@127.0.0.1:$port/postgres" || status=1
else
  echo "bench: could not start the limiter's database" >&2
  status=1
fi

printf '\nresults: %s\n' "$results"
exit "$status"
