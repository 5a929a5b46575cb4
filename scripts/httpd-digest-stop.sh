#!/bin/bash
# httpd-digest-stop.sh DIR -- stops the private httpd started by scripts/httpd-digest-start.sh DIR.
# Signals only the parent pid recorded in DIR/httpd.pid; httpd takes its own children down.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR}")
PIDFILE="$DIR/httpd.pid"
[ -f "$PIDFILE" ] || exit 0
pid=$(cat "$PIDFILE")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.025; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  echo "httpd-digest-stop: stopped $pid"
fi
rm -f "$PIDFILE"
