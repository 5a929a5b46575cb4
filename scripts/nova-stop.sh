#!/bin/bash
# nova-stop.sh PORT -- stops the Nova scripts/nova-start.sh started on PORT: TERM (KILL after 5 s) exactly the
# PID in its pidfile, then removes its temp dir.
set -euo pipefail
port=${1:?usage: nova-stop.sh PORT}
dir="${TMPDIR:-/tmp}/skygraph-nova-$port"
if [ ! -f "$dir/nova.pid" ]; then
  echo "nova-stop: no pidfile in $dir" >&2
  exit 0
fi
pid=$(cat "$dir/nova.pid")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
fi
rm -rf "$dir"
echo "nova-stop: stopped pid $pid" >&2
