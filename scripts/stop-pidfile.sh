#!/bin/bash
# stop-pidfile.sh NAME DIR PIDFILE -- stops exactly the PID in PIDFILE: TERM, KILL after 5 s; then
# removes DIR (the daemon's temp dir). Shared by the *-stop.sh scripts of daemons started by
# their *-start.sh twins.
set -euo pipefail
NAME=${1:?usage: stop-pidfile.sh NAME DIR PIDFILE}
DIR=${2:?usage: stop-pidfile.sh NAME DIR PIDFILE}
PIDFILE=${3:?usage: stop-pidfile.sh NAME DIR PIDFILE}
if [ ! -f "$PIDFILE" ]; then
  echo "$NAME: no $PIDFILE; nothing to stop" >&2
  exit 0
fi
pid=$(cat "$PIDFILE")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  echo "$NAME: stopped pid $pid" >&2
fi
rm -rf "$DIR"
