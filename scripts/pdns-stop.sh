#!/bin/bash
# pdns-stop.sh API_PORT -- stops the pdns_server scripts/pdns-start.sh started with that API port: TERM
# (KILL after 5 s) exactly the PID in its pidfile, then removes its temp dir (config, database, log).
set -euo pipefail
PORT=${1:?usage: pdns-stop.sh API_PORT}
DIR="${TMPDIR:-/tmp}/skygraph-pdns-$PORT"
PIDFILE="$DIR/pdns.pid"
if [ ! -f "$PIDFILE" ]; then
  echo "pdns-stop: no $PIDFILE; nothing to stop" >&2
  exit 0
fi
pid=$(cat "$PIDFILE")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  echo "pdns-stop: stopped pid $pid (API 127.0.0.1:$PORT)" >&2
fi
rm -rf "$DIR"
