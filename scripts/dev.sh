#!/usr/bin/env bash
# `npm run dev`: the whole local stack, like `supabase start` + `functions serve`.
#
#   npm run dev                 foreground; Ctrl-C stops the server and Postgres
#   npm run dev -- --detach     returns once every function answers; `npm run stop` stops it
#   npm run dev -- --profile start-legacy
#                               functions get the environment of a platform profile
#                               (dev, start-legacy, start-signing-keys, hosted;
#                               docs/platform.md): see what `supabase start` or a
#                               hosted deploy will do
#
# Options for scripts: --no-setup, --no-build (skip steps a caller already did).
# Ports and state: EDGEGUARD_API_PORT (54321), EDGEGUARD_DB_PORT (54322),
# EDGEGUARD_STATE_DIR (.local). A second run is fast: it restarts only the
# function server (to pick up code changes) and applies pending migrations.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"

detach=0 do_setup=1 do_build=1
profile="${EDGEGUARD_PROFILE:-dev}"
while [ $# -gt 0 ]; do
  case "$1" in
    --detach|-d) detach=1 ;;
    --no-setup) do_setup=0 ;;
    --no-build) do_build=0 ;;
    --profile) [ $# -ge 2 ] || eg_die "dev.sh: --profile needs a name"; profile="$2"; shift ;;
    --profile=*) profile="${1#--profile=}" ;;
    *) eg_die "dev.sh: unknown option $1 (use --detach, --profile NAME)" ;;
  esac
  shift
done
case "$profile" in
  dev|start-legacy|start-signing-keys|hosted) ;;
  *) eg_die "dev.sh: unknown profile $profile (dev, start-legacy, start-signing-keys, hosted)" ;;
esac
export EDGEGUARD_PROFILE="$profile"
mkdir -p "$EG_STATE"

[ "$do_setup" = 1 ] && bash scripts/setup.sh
if [ "$do_build" = 1 ]; then
  if [ -f scripts/build.sh ]; then bash scripts/build.sh; else eg_log "dev: scripts/build.sh not present; skipping the wasm build"; fi
fi

bash scripts/pg.sh start
bash scripts/pg.sh migrate
"$EG_DENO" run -A scripts/dev_keys.ts --dir "$EG_STATE"

pidfile="$EG_STATE/serve.pid"
logfile="$EG_STATE/serve.log"
old="$(cat "$pidfile" 2>/dev/null || true)"
if eg_alive "$old"; then
  eg_log "dev: restarting the function server (pid $old)"
  bash scripts/stop.sh --server-only
fi
if eg_port_busy "$EG_API_PORT"; then
  eg_die "port $EG_API_PORT is already in use by another process (set EDGEGUARD_API_PORT or stop it)"
fi

# Waits until every function answers or the server dies.
wait_ready() {
  local pid="$1"
  node - "$EG_API_URL" "$pid" "$EG_ROOT/supabase/functions" <<'JS'
const [api, pid, dir] = process.argv.slice(2);
const fs = require("fs");
const names = fs.readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && fs.existsSync(`${dir}/${d.name}/index.ts`))
  .map((d) => d.name);
const deadline = Date.now() + Number(process.env.EDGEGUARD_READY_TIMEOUT || 60) * 1000;
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
(async () => {
  for (;;) {
    if (!alive()) { console.error("dev: the function server exited"); process.exit(1); }
    try {
      // The server imports every function before it listens: once it answers,
      // each function's status is final.
      for (const n of names) {
        const r = await fetch(`${api}/functions/v1/${n}`);
        await r.arrayBuffer();
        if (n === "health" && r.status !== 200) {
          console.error(`dev: warning: health answered ${r.status} (see the server log)`);
        }
      }
      if (names.length === 0) await (await fetch(`${api}/auth/v1/.well-known/jwks.json`)).arrayBuffer();
      process.exit(0);
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { console.error("dev: functions did not answer in time"); process.exit(1); }
    await new Promise((r) => setTimeout(r, 200));
  }
})();
JS
}

print_info() {
  node - "$EG_STATE/keys/dev-keys.json" "$EG_API_URL" "$EG_DB_URL" "$EG_ROOT/supabase/functions" "$EG_STATE" "$logfile" "$detach" <<'JS'
const [keysFile, api, db, dir, state, log, detach] = process.argv.slice(2);
const fs = require("fs");
const env = JSON.parse(fs.readFileSync(keysFile, "utf8")).env;
const names = fs.readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && fs.existsSync(`${dir}/${d.name}/index.ts`))
  .map((d) => d.name).sort();
const pad = (s) => s.padStart(16);
const lines = [
  "", "edgeguard local stack is running.", "",
  `${pad("API URL")}: ${api}`,
  `${pad("Functions")}: ${api}/functions/v1/<name>`,
  ...names.map((n) => `${pad("")}  ${n.padEnd(12)} ${api}/functions/v1/${n}`),
  `${pad("JWKS URL")}: ${api}/auth/v1/.well-known/jwks.json`,
  `${pad("DB URL")}: ${db}`,
  `${pad("Publishable key")}: ${env.SUPABASE_PUBLISHABLE_KEY}`,
  `${pad("Secret key")}: ${env.SUPABASE_SECRET_KEY}`,
  `${pad("JWT secret")}: ${env.JWT_SECRET}`,
  `${pad("Profile")}: ${process.env.EDGEGUARD_PROFILE || "dev"}`,
  `${pad("State")}: ${state}${detach === "1" ? `  (server log: ${log})` : ""}`,
  "",
  "Mint a dev token:  npm run token -- --email you@example.com",
  detach === "1" ? "Stop:              npm run stop" : "Stop:              Ctrl-C",
  "",
];
console.log(lines.join("\n"));
JS
}

if [ "$detach" = 1 ]; then
  setsid nohup "$EG_DENO" run -A scripts/serve.ts >"$logfile" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$pidfile"
  if ! wait_ready "$pid"; then
    tail -n 20 "$logfile" >&2 || true
    eg_die "the function server did not become ready (log: $logfile)"
  fi
  print_info
  exit 0
fi

pid=""
cleanup() {
  trap - INT TERM EXIT
  if eg_alive "$pid"; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  bash scripts/pg.sh stop || true
}
trap cleanup INT TERM EXIT
# --watch restarts the server when a function, the shared code or the generated wasm changes.
"$EG_DENO" run -A --watch=supabase/functions/ --no-clear-screen scripts/serve.ts &
pid=$!
echo "$pid" > "$pidfile"
wait_ready "$pid" || eg_die "the function server did not become ready"
print_info
wait "$pid"
