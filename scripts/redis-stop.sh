#!/bin/bash
# redis-stop.sh PORT -- stops the redis-server scripts/redis-start.sh started on PORT: TERM (KILL after 5 s)
# exactly the PID in its pidfile, then removes its temp dir.
set -euo pipefail
PORT=${1:?usage: redis-stop.sh PORT}
DIR="${TMPDIR:-/tmp}/skygraph-redis-$PORT"
exec "$(dirname "$0")/stop-pidfile.sh" redis-stop "$DIR" "$DIR/redis.pid"
