#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's `postgresql` package:
#   scripts/postgres.sh start DIR [PID]   initdb into DIR, start on a free loopback port, print its URL
#                                         (and stop the server when process PID exits, if given)
#   scripts/postgres.sh stop DIR          stop it
# The server refuses to run as root: as root it runs as the package's `postgres` user.
set -euo pipefail
cmd=${1:?usage: postgres.sh start DIR [PID] | stop DIR}
dir=${2:?usage: postgres.sh start DIR [PID] | stop DIR}
bindir=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 2
fi
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
case $cmd in
  start)
    mkdir -p "$dir"
    # The server's own folder (data, socket, log), which its user must own all the way down.
    data=$("${as[@]}" mktemp -d "${TMPDIR:-/tmp}/roster-pg.XXXXXX")
    echo "$data" >"$dir/server-dir"
    "${as[@]}" "$bindir/initdb" -D "$data/data" -A trust -U roster -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bindir/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 60 \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$data/server.log" >&2; exit 1; }
    if [ -n "${3:-}" ]; then
      watched=$3
      nohup bash -c "while kill -0 $watched 2>/dev/null; do sleep 1; done; ${as[*]} '$bindir/pg_ctl' -D '$data/data' -m immediate stop; rm -rf '$data' '$dir'" \
        >/dev/null 2>&1 &
    fi
    echo "postgresql://roster@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
  stop)
    data=$(cat "$dir/server-dir")
    "${as[@]}" "$bindir/pg_ctl" -D "$data/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$data"
    ;;
  *)
    echo "postgres.sh: unknown command $cmd (start or stop)" >&2
    exit 2
    ;;
esac
