#!/usr/bin/env bash
# Provisions PostgreSQL 15 with pgvector for CI, as root on Debian 12. Idempotent, and takes a
# few seconds when everything is already there (a machine may keep the cluster between runs).
#
# pgvector is not packaged for PostgreSQL 15 in bookworm, so it is built from Debian's source
# package (trixie), fetched with private apt option files that leave the system's apt
# configuration and package lists untouched.
#
# The cluster is our own (not the Debian "main" one): data in $ROOT/data, listening on
# 127.0.0.1:$PORT with trust auth. The last line printed is TEST_DATABASE_URL=...
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
PG_CONFIG="$PGBIN/pg_config"
PORT="${SUTURE_CI_PG_PORT:-55432}"
ROOT="${SUTURE_CI_PG_ROOT:-/var/lib/suture-ci-pg}"
DATA="$ROOT/data"
RUN="$ROOT/run"      # unix socket dir
LOG="$ROOT/postgres.log"
DB=suture_test

log() { echo "[ci] $*"; }
die() { echo "[ci] ERROR: $*" >&2; exit 1; }
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, runs the server as postgres)"

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- PostgreSQL 15 server -------------------------------------------------------------------
if [ ! -x "$PGBIN/postgres" ]; then
  log "installing postgresql-15"
  apt_install postgresql-15
fi

# --- pgvector, built from Debian's source package ---------------------------------------------
# The Debian mirror this machine already uses (URIs: lines of *.sources, deb lines of *.list).
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    for uri in $(sed -nE -e 's/^[[:space:]]*URIs:[[:space:]]*//p' \
                         -e 's/^[[:space:]]*deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\3/p' "$f"); do
      case "${uri%/}" in http://*/debian|https://*/debian) echo "${uri%/}"; return ;; esac
    done
  done
  echo http://deb.debian.org/debian
}

if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]; then
  log "building pgvector for PostgreSQL 15 from Debian's source package"
  apt_install postgresql-server-dev-15 build-essential dpkg-dev
  work="$(mktemp -d /tmp/suture-pgvector.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  mirror="$(debian_mirror)"
  cat > "$work/sources.sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
  # apt downloads as the unprivileged _apt user where it can reach and write
  chmod 755 "$work" "$work/lists" "$work/cache"
  if id _apt >/dev/null 2>&1; then chown _apt "$work/lists/partial" "$work/src"; fi
  apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.sources" -o Dir::Etc::sourceparts=-
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work/src" && apt-get "${apt_opts[@]}" source -qq pgvector >/dev/null)
  src="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -1)"
  [ -n "$src" ] || die "apt-get source pgvector unpacked nothing (from $mirror trixie)"
  log "compiling $(basename "$src")"
  make -s -j"$(nproc)" -C "$src" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -s -C "$src" PG_CONFIG="$PG_CONFIG" install >/dev/null
  rm -rf "$work"
  trap - EXIT
fi

# --- the cluster ----------------------------------------------------------------------------
mkdir -p "$ROOT" "$RUN"
chown postgres:postgres "$ROOT" "$RUN"
touch "$LOG" && chown postgres:postgres "$LOG"

if [ ! -f "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"  # a half-made data dir from an interrupted initdb
  log "initializing cluster in $DATA"
  install -d -o postgres -g postgres -m 700 "$DATA"
  as_postgres "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi

ready() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 3; }
# pid of a live postmaster for $DATA, if any (postmaster.pid's first line, checked by name so a
# recycled pid of some other process does not count)
live_postmaster() {
  local pid
  pid="$(head -1 "$DATA/postmaster.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] && echo "$pid"
}
start_server() {
  log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
  as_postgres "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 120 \
      -o "-p $PORT -c listen_addresses=127.0.0.1 -k $RUN -c max_connections=200 -c fsync=off" \
      start >/dev/null || { tail -n 30 "$LOG" >&2; die "PostgreSQL did not start"; }
}

if ready; then
  log "PostgreSQL already running on 127.0.0.1:$PORT"
elif pid="$(live_postmaster)"; then
  # running but not (yet) accepting: starting up or recovering; or on another port
  log "postmaster $pid is up but not ready on port $PORT; waiting"
  for _ in $(seq 60); do ready && break; sleep 1; done
  if ! ready; then
    log "still not ready: restarting it"
    as_postgres "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || true
    start_server
  fi
else
  if [ -f "$DATA/postmaster.pid" ]; then
    log "removing stale $DATA/postmaster.pid"
    rm -f "$DATA/postmaster.pid"
  fi
  start_server
fi

# --- database and extension -----------------------------------------------------------------
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  log "creating database $DB"
  psql_admin -d postgres -c "CREATE DATABASE $DB"
fi
psql_admin -d "$DB" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector"
psql_admin -d "$DB" -tAc "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector" >/dev/null \
  || die "pgvector does not work in $DB"
log "$(psql_admin -d "$DB" -tAc "SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' || extversion FROM pg_extension WHERE extname = 'vector'")"
echo "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/$DB"
