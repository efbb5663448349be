#!/usr/bin/env bash
# Provisions PostgreSQL 15 with pgvector for CI: idempotent, and quick when already there.
# pgvector is not packaged for PostgreSQL 15 in bookworm, so it is built from Debian's source
# package (trixie), fetched with private apt option files that leave the system's apt
# configuration untouched.
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
PG_CONFIG="$PGBIN/pg_config"
PORT="${SUTURE_CI_PG_PORT:-55432}"
DATA=/var/lib/suture-ci-pg/data
RUN=/var/lib/suture-ci-pg/run
LOG=/var/lib/suture-ci-pg/postgres.log
DB=suture_test

log() { echo "[ci] $*"; }
as_postgres() { runuser -u postgres -- "$@"; }

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x "$PGBIN/postgres" ]; then
  log "installing postgresql-15"
  apt_install postgresql-15
fi

if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]; then
  log "building pgvector from Debian's source package"
  apt_install postgresql-server-dev-15 build-essential dpkg-dev
  work="$(mktemp -d)"
  chmod 755 "$work"  # lets apt's _apt user write its downloads
  mirror="$(grep -rhoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  cat > "$work/sources.sources" <<SRC
Types: deb-src
URIs: ${mirror%/}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.sources" -o Dir::Etc::sourceparts=- \
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && apt-get "${apt_opts[@]}" source -qq pgvector >/dev/null)
  src="$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)"
  make -s -C "$src" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -s -C "$src" PG_CONFIG="$PG_CONFIG" install >/dev/null
  rm -rf "$work"
fi

mkdir -p "$RUN"
chown postgres:postgres /var/lib/suture-ci-pg "$RUN"
if [ ! -f "$DATA/PG_VERSION" ]; then
  log "initializing cluster in $DATA"
  mkdir -p "$DATA"
  chown postgres:postgres "$DATA"
  as_postgres "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi

if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  pid_file="$DATA/postmaster.pid"
  if [ -f "$pid_file" ] && ! kill -0 "$(head -1 "$pid_file")" 2>/dev/null; then
    log "removing stale $pid_file"
    rm -f "$pid_file"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  touch "$LOG" && chown postgres:postgres "$LOG"
  as_postgres "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k $RUN -c max_connections=200 -c fsync=off" start >/dev/null
fi

psql_admin() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  psql_admin -d postgres -c "CREATE DATABASE $DB"
fi
psql_admin -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS vector"
log "$(psql_admin -d "$DB" -tAc "SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' || extversion FROM pg_extension WHERE extname = 'vector'")"
