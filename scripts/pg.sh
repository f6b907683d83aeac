#!/usr/bin/env bash
# The local Postgres 15 cluster: 127.0.0.1:$EDGEGUARD_DB_PORT (54322),
# user/password postgres, database postgres. TCP only (no Unix socket).
#
#   bash scripts/pg.sh start            init on first use, start, wait until ready
#   bash scripts/pg.sh migrate [DB]     bootstrap + pending migrations + seed (once)
#                                       (then those of EDGEGUARD_EXTRA_MIGRATIONS_DIRS, below)
#   bash scripts/pg.sh stop | status | url
#   bash scripts/pg.sh psql [ARGS...]   psql connected to the cluster
#   bash scripts/pg.sh reset            wipe the cluster, start, migrate
#   bash scripts/pg.sh recreate-db DB   drop (if present) and create DB, then migrate it
#   bash scripts/pg.sh drop-db DB
#   bash scripts/pg.sh destroy          stop and delete the cluster's data
#
# initdb refuses to run as root, so as root the server runs as the `postgres`
# OS user with its data under /var/tmp/edgeguard-<hash>/ (a clone may sit
# where that user cannot enter); .local/pg links there. As a normal user the
# data lives in .local/pg and the server runs as you.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EG_ROOT"

# Migrations and seed come from here (tests point it elsewhere).
SB_DIR="${EDGEGUARD_SUPABASE_DIR:-$EG_ROOT/supabase}"
# Colon-separated folders whose *.sql migrations apply after ours, tracked the
# same way (the recipes of examples/: scripts/test.sh sets it; `npm run dev`
# honours it too). Their versions must not collide with ours.
IFS=: read -r -a EXTRA_MIGRATIONS <<<"${EDGEGUARD_EXTRA_MIGRATIONS_DIRS:-}"
PG_LINK="$EG_STATE/pg"
if [ "$(id -u)" = 0 ]; then
  PG_HOME="/var/tmp/edgeguard-$(eg_hash "$EG_STATE")"
  as_server() { runuser -u postgres -- "$@"; }
else
  PG_HOME="$PG_LINK"
  as_server() { "$@"; }
fi
PG_DATA="$PG_HOME/data"
PG_LOG="$PG_HOME/postgres.log"

export PGPASSWORD=postgres
export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning"
psql_() { "$EG_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$EG_DB_PORT" -U postgres "$@"; }

is_running() { [ -f "$PG_DATA/PG_VERSION" ] && as_server "$EG_PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

prepare_home() {
  mkdir -p "$EG_STATE"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$PG_HOME"
    chown postgres: "$PG_HOME"
    chmod 700 "$PG_HOME"
    if [ "$(readlink "$PG_LINK" 2>/dev/null || true)" != "$PG_HOME" ]; then
      rm -rf "$PG_LINK"
      ln -s "$PG_HOME" "$PG_LINK"
    fi
  else
    mkdir -p "$PG_HOME"
    chmod 700 "$PG_HOME"
  fi
}

init_cluster() {
  eg_log "pg: initialising a new cluster in $PG_DATA"
  local pwfile="$PG_HOME/pwfile"
  printf 'postgres\n' > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
  local locale=(--locale=C.UTF-8)
  locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || locale=(--no-locale)
  if ! as_server "$EG_PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
      --auth=scram-sha-256 -E UTF8 "${locale[@]}" >"$PG_HOME/initdb.log" 2>&1; then
    rm -f "$pwfile"
    cat "$PG_HOME/initdb.log" >&2
    eg_die "initdb failed (log above)"
  fi
  rm -f "$pwfile"
  {
    echo "# edgeguard local stack"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = ''"
    echo "max_connections = 200"
    echo "log_min_messages = warning"
    if [ "${EDGEGUARD_PG_FAST:-0}" = 1 ]; then
      # Throw-away test clusters only: durability is not needed there.
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | as_server tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

cmd_start() {
  prepare_home
  if is_running; then
    local port
    port="$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    if [ "$port" = "$EG_DB_PORT" ]; then
      eg_log "pg: already running on 127.0.0.1:$EG_DB_PORT"
      return 0
    fi
    eg_log "pg: running on port $port; restarting on $EG_DB_PORT"
    as_server "$EG_PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
  if eg_port_busy "$EG_DB_PORT"; then
    eg_die "port $EG_DB_PORT is already in use by another process (set EDGEGUARD_DB_PORT or stop it)"
  fi
  [ -f "$PG_DATA/PG_VERSION" ] || init_cluster
  if ! as_server "$EG_PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
      -o "-p $EG_DB_PORT" start >/dev/null 2>&1; then
    tail -n 20 "$PG_LOG" >&2 || true
    eg_die "postgres did not start (log: $PG_LOG)"
  fi
  eg_log "pg: started on 127.0.0.1:$EG_DB_PORT"
}

cmd_stop() {
  if is_running; then
    as_server "$EG_PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    eg_log "pg: stopped"
  else
    eg_log "pg: not running"
  fi
}

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# bootstrap -> pending migrations (each once, tracked like the Supabase CLI) -> seed (once)
cmd_migrate() {
  local db="${1:-postgres}"
  local tmp
  tmp="$(mktemp)"
  # shellcheck disable=SC2064
  trap "rm -f '$tmp'" RETURN

  if [ -f scripts/sql/bootstrap.sql ]; then
    psql_ -d "$db" -v ON_ERROR_STOP=1 -1 -f scripts/sql/bootstrap.sql >/dev/null \
      || eg_die "bootstrap failed: scripts/sql/bootstrap.sql"
  else
    eg_log "pg: scripts/sql/bootstrap.sql not present; skipping bootstrap"
  fi

  psql_ -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key, statements text[], name text);
create table if not exists supabase_migrations.seed_files (
  path text primary key, hash text not null);
SQL

  local applied count=0 file base version name
  applied="$(psql_ -d "$db" -At -c 'select version from supabase_migrations.schema_migrations')"
  shopt -s nullglob
  local dir files=("$SB_DIR"/migrations/*.sql)
  for dir in "${EXTRA_MIGRATIONS[@]}"; do
    [ -n "$dir" ] && files+=("$dir"/*.sql)
  done
  for file in "${files[@]}"; do
    base="$(basename "$file" .sql)"
    version="${base%%_*}"
    name="${base#*_}"
    [ "$name" = "$base" ] && name=""
    if grep -qxF "$version" <<<"$applied"; then continue; fi
    printf 'insert into supabase_migrations.schema_migrations (version, name) values (%s, %s);\n' \
      "$(sql_literal "$version")" "$(sql_literal "$name")" > "$tmp"
    psql_ -d "$db" -v ON_ERROR_STOP=1 -1 -f "$file" -f "$tmp" >/dev/null \
      || eg_die "migration failed: ${file#"$EG_ROOT"/} (nothing of it was applied)"
    count=$((count + 1))
  done
  shopt -u nullglob
  eg_log "pg: $db: $count migration(s) applied"

  if [ -f "$SB_DIR/seed.sql" ]; then
    local seeded
    seeded="$(psql_ -d "$db" -At -c "select 1 from supabase_migrations.seed_files where path = 'supabase/seed.sql'")"
    if [ -z "$seeded" ]; then
      printf 'insert into supabase_migrations.seed_files (path, hash) values (%s, %s);\n' \
        "'supabase/seed.sql'" "$(sql_literal "$(sha256sum "$SB_DIR/seed.sql" | cut -c1-64)")" > "$tmp"
      psql_ -d "$db" -v ON_ERROR_STOP=1 -1 -f "$SB_DIR/seed.sql" -f "$tmp" >/dev/null \
        || eg_die "seed failed: supabase/seed.sql"
      eg_log "pg: $db: seeded from supabase/seed.sql"
    fi
  fi
}

cmd_drop_db() {
  local db="$1"
  psql_ -d template1 -v ON_ERROR_STOP=1 -c "drop database if exists \"$db\" with (force)" >/dev/null
}

cmd_recreate_db() {
  local db="$1"
  cmd_drop_db "$db"
  psql_ -d template1 -v ON_ERROR_STOP=1 -c "create database \"$db\"" >/dev/null
  cmd_migrate "$db"
}

cmd="${1:-status}"
shift || true
case "$cmd" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status)
    if is_running; then
      echo "running: postgresql://postgres:postgres@127.0.0.1:$(sed -n 4p "$PG_DATA/postmaster.pid")/postgres"
    else
      echo "stopped"; exit 3
    fi ;;
  url) echo "$EG_DB_URL" ;;
  migrate) cmd_migrate "${1:-postgres}" ;;
  psql) exec "$EG_PG_BIN/psql" -X -h 127.0.0.1 -p "$EG_DB_PORT" -U postgres -d postgres "$@" ;;
  reset)
    cmd_stop
    rm -rf "$PG_DATA"
    cmd_start
    cmd_migrate postgres ;;
  destroy)
    # Stops the cluster and deletes its data (for throw-away state dirs).
    cmd_stop
    rm -rf "$PG_HOME" "$PG_LINK" ;;
  recreate-db) [ -n "${1:-}" ] || eg_die "usage: pg.sh recreate-db DB"; cmd_recreate_db "$1" ;;
  drop-db) [ -n "${1:-}" ] || eg_die "usage: pg.sh drop-db DB"; cmd_drop_db "$1" ;;
  *) eg_die "usage: pg.sh start|stop|status|url|migrate [DB]|psql [ARGS]|reset|recreate-db DB|drop-db DB|destroy" ;;
esac
