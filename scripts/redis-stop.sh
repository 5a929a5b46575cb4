#!/bin/bash
# redis-stop.sh PORT -- stops the redis-server scripts/redis-start.sh started on PORT: TERM (KILL after 5 s)
# exactly the PID in its pidfile, then removes its temp dir.
set -euo pipefail
PORT=${1:?usage: redis-stop.sh PORT}
DIR="${TMPDIR:-/tmp}/skygraph-redis-$PORT"
PIDFILE="$DIR/redis.pid"
if [ ! -f "$PIDFILE" ]; then
  echo "redis-stop: no $PIDFILE; nothing to stop" >&2
  exit 0
fi
pid=$(cat "$PIDFILE")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  echo "redis-stop: stopped pid $pid (127.0.0.1:$PORT)" >&2
fi
rm -rf "$DIR"
