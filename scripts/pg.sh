#!/usr/bin/env bash
# A throwaway PostgreSQL server (Debian's postgresql package) for the
# server's tests, on 127.0.0.1 and a free port:
#   bash scripts/pg.sh start DIR   # initdb + start; writes the URL to DIR/url
#   bash scripts/pg.sh stop DIR    # stop and delete DIR
#   bash scripts/pg.sh down DIR    # stop (-m fast), keep the data: an outage
#   bash scripts/pg.sh up DIR      # start it again on the same port
# PostgreSQL refuses to run as root: as root it runs as the `postgres` user.
set -euo pipefail
cmd=${1:?start|stop|down|up}
dir=${2:?a directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: PostgreSQL is not installed (bash scripts/system-deps.sh)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
serve() { # PORT: start the cluster in $dir listening there
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $1 -k $dir -c max_connections=300" start >/dev/null
}
halt() { # the fast stop (open sessions are ended), data kept
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}
case "$cmd" in
start)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  serve "$port"
  echo "postgres://postgres@127.0.0.1:$port/postgres" > "$dir/url"
  ;;
down)
  halt
  ;;
up)
  serve "$(sed -E 's|.*:([0-9]+)/.*|\1|' "$dir/url")"
  ;;
stop)
  if [ -d "$dir/data" ]; then halt || true; fi
  rm -rf "$dir"
  ;;
*) echo "pg.sh: start|stop|down|up DIR" >&2; exit 2 ;;
esac
