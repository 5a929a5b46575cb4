#!/bin/bash
# pdns-stop.sh API_PORT -- stops the pdns_server scripts/pdns-start.sh started with that API port: TERM
# (KILL after 5 s) exactly the PID in its pidfile, then removes its temp dir (config, database, log).
set -euo pipefail
PORT=${1:?usage: pdns-stop.sh API_PORT}
DIR="${TMPDIR:-/tmp}/skygraph-pdns-$PORT"
exec "$(dirname "$0")/stop-pidfile.sh" pdns-stop "$DIR" "$DIR/pdns.pid"
