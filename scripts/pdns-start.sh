#!/bin/bash
# pdns-start.sh [API_PORT [DNS_PORT]] -- starts a throwaway PowerDNS Authoritative server (gsqlite3 backend)
# on 127.0.0.1: the HTTP API on API_PORT, DNS (UDP+TCP) on DNS_PORT (free ports when omitted; never 53).
# Config, database, pidfile and log live in ${TMPDIR:-/tmp}/skygraph-pdns-API_PORT. The API key is
# $PDNS_API_KEY, or a random one. Prints "API_PORT DNS_PORT API_KEY" on stdout.
# Stop it with: scripts/pdns-stop.sh API_PORT   (the tests use test/helpers/pdns.ts instead)
set -euo pipefail

SCHEMA=""
for f in /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql /usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql; do
  [ -f "$f" ] && { SCHEMA=$f; break; }
done
if ! command -v pdns_server >/dev/null || ! command -v sqlite3 >/dev/null || [ -z "$SCHEMA" ]; then
  echo "pdns-start: pdns-server, pdns-backend-sqlite3 or sqlite3 is missing; run scripts/install-test-deps.sh" >&2
  exit 1
fi

free_port() {
  # a port free for TCP and UDP alike (the DNS listener binds both)
  /usr/bin/python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
print(port)
PY
}

API_PORT=${1:-$(free_port)}
DNS_PORT=${2:-$(free_port)}
[ "$DNS_PORT" = 53 ] && { echo "pdns-start: refusing port 53" >&2; exit 1; }
KEY=${PDNS_API_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
DIR="${TMPDIR:-/tmp}/skygraph-pdns-$API_PORT"
if [ -f "$DIR/pdns.pid" ] && kill -0 "$(cat "$DIR/pdns.pid")" 2>/dev/null; then
  echo "pdns-start: $DIR/pdns.pid names a running process; stop it first (scripts/pdns-stop.sh $API_PORT)" >&2
  exit 2
fi
rm -rf "$DIR" && mkdir -p "$DIR"
sqlite3 "$DIR/pdns.sqlite3" ".read $SCHEMA"
cat > "$DIR/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$DIR/pdns.sqlite3
local-address=127.0.0.1
local-port=$DNS_PORT
api=yes
api-key=$KEY
webserver=yes
webserver-address=127.0.0.1
webserver-port=$API_PORT
webserver-allow-from=127.0.0.0/8
socket-dir=$DIR
guardian=no
daemon=no
disable-syslog=yes
security-poll-suffix=
loglevel=4
CONF
chmod 600 "$DIR/pdns.conf"
setsid pdns_server --config-dir="$DIR" </dev/null >"$DIR/pdns.log" 2>&1 &
echo $! > "$DIR/pdns.pid"
for _ in $(seq 1 150); do
  if curl -fsS -o /dev/null -H "X-API-Key: $KEY" "http://127.0.0.1:$API_PORT/api/v1/servers/localhost" 2>/dev/null; then
    echo "pdns-start: API http://127.0.0.1:$API_PORT DNS 127.0.0.1:$DNS_PORT pid $(cat "$DIR/pdns.pid") dir $DIR" >&2
    echo "$API_PORT $DNS_PORT $KEY"
    exit 0
  fi
  kill -0 "$(cat "$DIR/pdns.pid")" 2>/dev/null || break
  sleep 0.1
done
echo "pdns-start: pdns_server did not come up; log:" >&2
tail -n 20 "$DIR/pdns.log" >&2 || true
kill "$(cat "$DIR/pdns.pid")" 2>/dev/null || true
rm -rf "$DIR"
exit 1
