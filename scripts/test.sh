#!/usr/bin/env bash
# `npm test`: installs what is missing, builds the wasm, then runs every suite:
#   rust   cargo test --workspace (--no-fail-fast: every test binary runs)
#   deno   deno test of supabase/functions/**/*.test.ts and scripts/**/*.test.ts
#   pgtap  pg_prove of supabase/tests/database/*.test.sql on a throw-away database
#          (and examples/*/tests/database/*.test.sql on one with the recipes' migrations)
#   e2e    deno test tests/e2e/ (and examples/*/*.test.ts) against a stack started
#          on its own ports and state dir (.local/test-stack), so a running
#          `npm run dev` is untouched; it also serves the recipes of examples/
#   browser  tests/browser/ (node --test): Debian's Chromium via puppeteer-core
#          drives a web page calling the functions with supabase-js
#   profiles  tests/platform/ once per platform profile (start-legacy,
#          start-signing-keys, hosted): the same stack restarted with the
#          environment Supabase really gives a function (docs/platform.md)
# Prints a summary line per suite and a final `total: N passed, M failed`;
# exits non-zero on any failure. Logs: .local/test-logs/<suite>.log.
#
# A suite that hangs is stopped after its time limit (seconds, counted as a
# failure): EDGEGUARD_TIMEOUT_RUST (3600), _DENO (900), _PGTAP (600), _E2E (1200).
#
# Environment: EDGEGUARD_TEST_API_PORT / EDGEGUARD_TEST_DB_PORT pin the e2e
# ports (default: a free pair 55421/55422 + 10*k, k starting at a per-clone offset).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"
export NO_COLOR=1 CARGO_TERM_COLOR=never

logs="$EG_ROOT/.local/test-logs"
mkdir -p "$logs"
total_pass=0
total_fail=0
summaries=()
started_all=$SECONDS

record() { # suite passed failed seconds [note]
  local line
  line="$(printf '%-6s %s passed, %s failed (%ss)%s' "$1:" "$2" "$3" "$4" "${5:+ $5}")"
  summaries+=("$line")
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  printf '\n== %s\n\n' "$line"
}

finish() {
  printf '\n'
  for line in "${summaries[@]}"; do printf '%s\n' "$line"; done
  printf 'time: %ss\n' "$((SECONDS - started_all))"
  printf 'total: %d passed, %d failed\n' "$total_pass" "$total_fail"
  [ "$total_fail" = 0 ]
  exit $?
}

# Runs "$@" with output to the console and to .local/test-logs/$name.log.
run_logged() {
  local name="$1"
  shift
  "$@" 2>&1 | tee "$logs/$name.log"
  return "${PIPESTATUS[0]}"
}

# Like run_logged, with a time limit of $2 seconds.
run_limited() {
  local name="$1" limit="$2" rc
  shift 2
  timeout -k 15 "$limit" "$@" 2>&1 | tee "$logs/$name.log"
  rc="${PIPESTATUS[0]}"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    printf '\n%s: stopped after the %ss time limit\n' "$name" "$limit" | tee -a "$logs/$name.log"
  fi
  return "$rc"
}

# Counters from each tool's own report.
count_cargo() { # log -> "passed failed"
  awk '/^test result: /{ for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
       END { print p + 0, f + 0 }' "$1"
}
count_deno() {
  awk '/^(ok|FAILED) \| [0-9]+ passed/ { p += $3; for (i = 1; i <= NF; i++) if ($(i) ~ /^failed/) f += $(i-1) }
       END { print p + 0, f + 0 }' "$1"
}
count_node() { # node --test summary lines
  awk '/^# pass [0-9]+/ { p += $3 } /^# fail [0-9]+/ { f += $3 } END { print p + 0, f + 0 }' "$1"
}
count_tap() { # ok / not ok lines, plus one per file that died or broke its plan
  awk '/^[[:space:]]*ok [0-9]+/ { p++ } /^[[:space:]]*not ok [0-9]+/ { f++ }
       / \(Wstat: / { file = $1 }
       /^[[:space:]]+(Non-zero exit status|Parse errors):/ { if (!(file in broken)) { broken[file] = 1; f++ } }
       END { print p + 0, f + 0 }' "$1"
}

# A failing exit with no failure counted still counts as one failure.
suite_result() { # name rc counter log seconds [note]
  local name="$1" rc="$2" counter="$3" log="$4" secs="$5" note="${6:-}" p f
  read -r p f < <("$counter" "$log")
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="${note:+$note; }exit status $rc"; fi
  record "$name" "$p" "$f" "$secs" "$note"
}

# --- setup + build ---------------------------------------------------------
t=$SECONDS
if ! run_logged setup bash scripts/setup.sh --test; then
  record setup 0 1 "$((SECONDS - t))" "see $logs/setup.log"
  finish
fi
summaries+=("$(printf '%-6s done (%ss)' "setup:" "$((SECONDS - t))")")
if [ -f scripts/build.sh ]; then
  t=$SECONDS
  if run_logged build bash scripts/build.sh; then
    summaries+=("$(printf '%-6s done (%ss)' "build:" "$((SECONDS - t))")")
  else
    record build 0 1 "$((SECONDS - t))" "see $logs/build.log"
  fi
fi

# --- rust ------------------------------------------------------------------
t=$SECONDS
run_limited rust "${EDGEGUARD_TIMEOUT_RUST:-3600}" cargo test --workspace --no-fail-fast
suite_result rust $? count_cargo "$logs/rust.log" "$((SECONDS - t))"

# --- deno unit tests (wasm + shims + scripts) ------------------------------
t=$SECONDS
mapfile -t deno_files < <(find supabase/functions scripts -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "${#deno_files[@]}" = 0 ]; then
  : > "$logs/deno.log"
  record deno 0 0 "$((SECONDS - t))" "(no test files)"
else
  run_limited deno "${EDGEGUARD_TIMEOUT_DENO:-900}" "$EG_DENO" test -A --no-prompt "${deno_files[@]}"
  suite_result deno $? count_deno "$logs/deno.log" "$((SECONDS - t))"
fi

# --- the test stack's ports and state --------------------------------------
test_state="$EG_ROOT/.local/test-stack"
pick_ports() {
  local api="${EDGEGUARD_TEST_API_PORT:-}" db="${EDGEGUARD_TEST_DB_PORT:-}" i
  if [ -n "$api" ] && [ -n "$db" ]; then echo "$api $db"; return; fi
  # Our own test cluster may still run from an interrupted run: reuse its port.
  local own
  own="$(EDGEGUARD_STATE_DIR="$test_state" bash scripts/pg.sh status 2>/dev/null | sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p')"
  # Start at an offset derived from the clone's path, so test runs of several
  # clones on one machine rarely race for the same ports.
  local base=$((0x$(eg_hash "$EG_ROOT" | cut -c1-4) % 40))
  for i in $(seq 0 39); do
    api=$((55421 + ((base + i) % 40) * 10)); db=$((api + 1))
    if ! eg_port_busy "$api" && { [ "$db" = "$own" ] || ! eg_port_busy "$db"; }; then echo "$api $db"; return; fi
  done
  eg_die "no free port pair for the test stack (set EDGEGUARD_TEST_API_PORT / EDGEGUARD_TEST_DB_PORT)"
}
read -r test_api_port test_db_port < <(pick_ports)
# The recipes of examples/ (each: functions/, migrations/, tests/database/,
# *.test.ts) run on the test stack beside the test-only functions.
shopt -s nullglob
recipe_fn_dirs=("$EG_ROOT"/examples/*/functions)
recipe_sql_dirs=("$EG_ROOT"/examples/*/migrations)
shopt -u nullglob
extra_fn_dirs="$EG_ROOT/tests/fixtures/functions"
for d in "${recipe_fn_dirs[@]}"; do extra_fn_dirs+=":$d"; done
extra_sql_dirs="$(IFS=:; echo "${recipe_sql_dirs[*]}")"
test_env=(env EDGEGUARD_STATE_DIR="$test_state" EDGEGUARD_API_PORT="$test_api_port" EDGEGUARD_DB_PORT="$test_db_port" EDGEGUARD_PG_FAST=1
  EDGEGUARD_EXTRA_FUNCTIONS_DIRS="$extra_fn_dirs" EDGEGUARD_EXTRA_MIGRATIONS_DIRS="$extra_sql_dirs")

stop_test_stack() {
  "${test_env[@]}" bash scripts/stop.sh >/dev/null 2>&1 || true
}
trap 'stop_test_stack' EXIT
trap 'stop_test_stack; exit 130' INT TERM

# --- pgTAP -------------------------------------------------------------------
# Ours on a database with our migrations only (our schema guards list our
# tables); the recipes' on a second one that also has theirs, after our
# shared helpers (00000_test_helpers.test.sql).
t=$SECONDS
shopt -s nullglob
sql_tests=(supabase/tests/database/*.test.sql)
recipe_sql_tests=(examples/*/tests/database/*.test.sql)
shopt -u nullglob
if [ "${#sql_tests[@]}" = 0 ]; then
  : > "$logs/pgtap.log"
  record pgtap 0 0 "$((SECONDS - t))" "(no test files)"
else
  db="edgeguard_test_$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
  pgtap_on() { # db extra-migration-dirs test-files...
    local on="$1" extra="$2"
    shift 2
    "${test_env[@]}" EDGEGUARD_EXTRA_MIGRATIONS_DIRS="$extra" bash scripts/pg.sh recreate-db "$on" || return 1
    PGPASSWORD=postgres "$EG_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$test_db_port" -U postgres -d "$on" \
      -v ON_ERROR_STOP=1 -c 'create schema if not exists extensions' \
      -c 'create extension if not exists pgtap with schema extensions' \
      -c "alter database \"$on\" set search_path = \"\$user\", public, extensions" || return 1
    PGPASSWORD=postgres timeout -k 15 "${EDGEGUARD_TIMEOUT_PGTAP:-600}" pg_prove --verbose --psql-bin "$EG_PG_BIN/psql" \
      -h 127.0.0.1 -p "$test_db_port" -U postgres -d "$on" "$@"
  }
  run_pgtap() {
    local rc=0
    "${test_env[@]}" bash scripts/pg.sh start || return 1
    pgtap_on "$db" "" "${sql_tests[@]}" || rc=1
    if [ "${#recipe_sql_tests[@]}" -gt 0 ]; then
      pgtap_on "${db}_recipes" "$extra_sql_dirs" supabase/tests/database/00000_test_helpers.test.sql "${recipe_sql_tests[@]}" || rc=1
    fi
    return "$rc"
  }
  run_logged pgtap run_pgtap
  rc=$?
  "${test_env[@]}" bash scripts/pg.sh drop-db "$db" >/dev/null 2>&1 || true
  "${test_env[@]}" bash scripts/pg.sh drop-db "${db}_recipes" >/dev/null 2>&1 || true
  suite_result pgtap "$rc" count_tap "$logs/pgtap.log" "$((SECONDS - t))"
fi

# --- end-to-end ----------------------------------------------------------------
t=$SECONDS
run_e2e() {
  "${test_env[@]}" bash scripts/pg.sh start || return 1
  # A fresh database per run: drop and re-create `postgres`, then migrate + seed.
  "${test_env[@]}" bash scripts/pg.sh recreate-db postgres || return 1
  "${test_env[@]}" bash scripts/dev.sh --detach --no-setup --no-build >/dev/null || return 1
  "${test_env[@]}" EDGEGUARD_API_URL="http://127.0.0.1:$test_api_port" \
    EDGEGUARD_DB_URL="postgresql://postgres:postgres@127.0.0.1:$test_db_port/postgres" \
    timeout -k 15 "${EDGEGUARD_TIMEOUT_E2E:-1200}" "$EG_DENO" test -A --no-prompt tests/e2e/ "${recipe_tests[@]}"
}
shopt -s nullglob
recipe_tests=(examples/*/*.test.ts)
shopt -u nullglob
run_logged e2e run_e2e
rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  printf '\ne2e: stopped after the %ss time limit\n' "${EDGEGUARD_TIMEOUT_E2E:-1200}" | tee -a "$logs/e2e.log"
fi
if [ "$rc" != 0 ] && [ -f "$test_state/serve.log" ]; then
  printf '\n-- last lines of the test stack server log --\n'
  tail -n 30 "$test_state/serve.log"
fi
suite_result e2e "$rc" count_deno "$logs/e2e.log" "$((SECONDS - t))"

# --- browser ---------------------------------------------------------------------
t=$SECONDS
run_limited browser 300 "${test_env[@]}" node --test tests/browser/
suite_result browser $? count_node "$logs/browser.log" "$((SECONDS - t))"

# --- platform profiles -------------------------------------------------------
t=$SECONDS
run_profiles() {
  local p rc=0
  for p in start-legacy start-signing-keys hosted; do
    printf '\n-- profile %s --\n' "$p"
    if ! "${test_env[@]}" EDGEGUARD_PROFILE="$p" bash scripts/dev.sh --detach --no-setup --no-build >/dev/null; then
      rc=1
      tail -n 30 "$test_state/serve.log"
      continue
    fi
    "${test_env[@]}" EDGEGUARD_PROFILE="$p" EDGEGUARD_API_URL="http://127.0.0.1:$test_api_port" \
      EDGEGUARD_DB_URL="postgresql://postgres:postgres@127.0.0.1:$test_db_port/postgres" \
      timeout -k 15 300 "$EG_DENO" test -A --no-prompt tests/platform/ || rc=1
  done
  return "$rc"
}
run_logged profiles run_profiles
rc=$?
stop_test_stack
suite_result profiles "$rc" count_deno "$logs/profiles.log" "$((SECONDS - t))"

finish
