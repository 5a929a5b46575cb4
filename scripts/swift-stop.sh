#!/bin/bash
# swift-stop.sh DIR [--keep] -- stops the Swift all-in-one scripts/swift-start.sh started in DIR:
# TERM (KILL after 5 s) exactly the PIDs in DIR/run/*.pid, then deletes DIR (--keep leaves it, e.g.
# to read DIR/log). Refuses to delete a DIR that swift-start.sh did not create.
set -uo pipefail
DIR=$(realpath -m "${1:?usage: swift-stop.sh DIR [--keep]}")
MARKER=.skygraph-swift-aio
if [ ! -f "$DIR/$MARKER" ]; then
  echo "swift-stop: $DIR was not made by swift-start.sh (no $MARKER); nothing done" >&2
  exit 0
fi
# why: the proxy first, so nothing new reaches the storage servers while they stop
for name in proxy updater account container object memcached; do
  f=$DIR/run/$name.pid
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    echo "swift-stop: stopped $name (pid $pid)" >&2
  fi
  rm -f "$f"
done
if [ "${2:-}" = "--keep" ]; then
  echo "swift-stop: kept $DIR" >&2
else
  rm -rf "$DIR"
fi
