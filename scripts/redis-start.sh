#!/bin/bash
# redis-start.sh [PORT] -- starts a throwaway redis-server on 127.0.0.1:PORT (a free port when omitted),
# no persistence (no RDB, no AOF), daemonized, pidfile and log in ${TMPDIR:-/tmp}/skygraph-redis-PORT.
# Prints the port on stdout. Stop it with: scripts/redis-stop.sh PORT
set -euo pipefail

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "redis-start: redis-server is not installed; run scripts/install-test-deps.sh" >&2
  exit 1
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_is_free() {
  /usr/bin/python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null
}

start_on() {
  local port=$1 dir="${TMPDIR:-/tmp}/skygraph-redis-$1"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    echo "redis-start: $dir/redis.pid names a running process; stop it first (scripts/redis-stop.sh $port)" >&2
    return 2
  fi
  port_is_free "$port" || { echo "redis-start: 127.0.0.1:$port is in use" >&2; return 1; }
  rm -rf "$dir" && mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 || true
  # why: check the server that answers is ours, not another one that grabbed the port meanwhile
  for _ in $(seq 1 250); do
    if [ -s "$dir/redis.pid" ]; then
      local answered
      answered=$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
      if [ -n "$answered" ] && [ "$answered" = "$(cat "$dir/redis.pid")" ]; then
        echo "redis-start: 127.0.0.1:$port pid $answered dir $dir" >&2
        echo "$port"
        return 0
      fi
    fi
    sleep 0.02
  done
  echo "redis-start: redis-server did not come up on 127.0.0.1:$port; log:" >&2
  tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  return 1
}

if [ -n "${1:-}" ]; then
  start_on "$1"
  exit $?
fi
for _ in 1 2 3 4 5; do
  start_on "$(free_port)" && exit 0
done
echo "redis-start: gave up after 5 ports" >&2
exit 1
