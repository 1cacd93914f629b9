#!/usr/bin/env bash
# Starts (or reuses) a private PostgreSQL cluster with the machine's initdb
# and pg_ctl, listening on 127.0.0.1 only. Prints its DATABASE_URL.
#   scripts/pg.sh start DIR PORT DBNAME
#   scripts/pg.sh stop DIR
#   scripts/pg.sh status DIR     succeeds when the cluster runs
# As root it runs the cluster as the postgres system user (initdb refuses
# root); otherwise as you. Nothing global is touched.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|status DIR [PORT DBNAME]}
dir=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
port=${3:-54329}
db=${4:-weupload}

bindir=""
for d in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ]; then
  echo "pg.sh: PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$cmd" = status ]; then
  [ -f "$dir/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
  exit
fi

if [ "$cmd" = stop ]; then
  if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "pg.sh: running as root needs a 'postgres' system user" >&2; exit 1; }
  chown postgres: "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    echo "pg.sh: the postgres user cannot write $dir (a parent directory is not searchable by others); use a checkout under a world-searchable path" >&2
    exit 1
  fi
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi

if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 ${PG_EXTRA_OPTS:-}" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
else
  # Already running, maybe on another port than asked: its own counts.
  port=$(sed -n 4p "$dir/data/postmaster.pid")
fi

psql=$(command -v psql || echo "$bindir/psql")
if [ -x "$psql" ]; then
  if ! "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    "$psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db"
  fi
else
  db=postgres # no client to create another database with; the default one serves
fi
echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
