#!/bin/bash
# sshd-stop.sh DIR -- stops the private sshd started by scripts/sshd-start.sh DIR.
# Kills only the pid recorded in DIR/sshd.pid.self and its own per-connection children.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR}")
PIDFILE="$DIR/sshd.pid.self"
[ -f "$PIDFILE" ] || exit 0
pid=$(cat "$PIDFILE")
if kill -0 "$pid" 2>/dev/null; then
  # why: with -D the listener does not take live sessions down with it; end them by parent pid
  pkill -TERM -P "$pid" 2>/dev/null || true
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  echo "sshd-stop: stopped $pid"
fi
rm -f "$PIDFILE" "$DIR/sshd.pid"
