#!/usr/bin/env bash
# `npm run stop`: stops a detached local stack (function server, then Postgres).
#   --server-only   leave Postgres running
# Honours EDGEGUARD_STATE_DIR / EDGEGUARD_DB_PORT like dev.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"

server_only=0
for arg in "$@"; do
  case "$arg" in
    --server-only) server_only=1 ;;
    *) eg_die "stop.sh: unknown option $arg" ;;
  esac
done

pidfile="$EG_STATE/serve.pid"
pid="$(cat "$pidfile" 2>/dev/null || true)"
if eg_alive "$pid"; then
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do eg_alive "$pid" || break; sleep 0.1; done
  eg_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  eg_log "stop: function server stopped"
else
  eg_log "stop: function server not running"
fi
rm -f "$pidfile"

[ "$server_only" = 1 ] || bash scripts/pg.sh stop
