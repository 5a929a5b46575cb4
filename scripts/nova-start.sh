#!/bin/bash
# nova-start.sh KEYSTONE_V3_URL [PORT] [SPAWN_SECONDS] -- starts a real Nova compute API (scripts/nova-fake.py:
# Debian's python3-nova, fake virt driver, keystonemiddleware validating tokens at KEYSTONE_V3_URL, which must
# accept user nova / nova-service-pass in project service) on 127.0.0.1:PORT (a free port when omitted), in the
# background, pidfile and log in ${TMPDIR:-/tmp}/skygraph-nova-PORT. Prints the port on stdout.
# Stop it with: scripts/nova-stop.sh PORT. The test suite (test/helpers/nova.ts) starts its own.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KEYSTONE=${1:?usage: nova-start.sh KEYSTONE_V3_URL [PORT] [SPAWN_SECONDS]}
SPAWN=${3:-1}

if ! /usr/bin/python3 -c 'import nova, keystonemiddleware, wsgi_intercept, oslotest' 2>/dev/null; then
  echo "nova-start: python3-nova and friends are not installed; run scripts/install-test-deps.sh" >&2
  exit 1
fi

port=${2:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
dir="${TMPDIR:-/tmp}/skygraph-nova-$port"
if [ -f "$dir/nova.pid" ] && kill -0 "$(cat "$dir/nova.pid")" 2>/dev/null; then
  echo "nova-start: $dir/nova.pid names a running process; stop it first (scripts/nova-stop.sh $port)" >&2
  exit 2
fi
rm -rf "$dir" && mkdir -p "$dir/tmp"
# why: nova's own temp files go under $dir, so nova-stop.sh removes them too
TMPDIR="$dir/tmp" nohup /usr/bin/python3 "$HERE/nova-fake.py" "$port" "$KEYSTONE" "$HERE/nova-api-paste.ini" "$SPAWN" \
  >"$dir/nova.out" 2>"$dir/nova.log" </dev/null &
echo $! >"$dir/nova.pid"
for _ in $(seq 1 300); do
  if grep -q 'nova-fake: ready' "$dir/nova.out" 2>/dev/null; then
    echo "nova-start: http://127.0.0.1:$port/v2.1 pid $(cat "$dir/nova.pid") dir $dir" >&2
    echo "$port"
    exit 0
  fi
  kill -0 "$(cat "$dir/nova.pid")" 2>/dev/null || break
  sleep 0.2
done
echo "nova-start: Nova did not come up on 127.0.0.1:$port; log:" >&2
tail -n 30 "$dir/nova.log" >&2 || true
kill "$(cat "$dir/nova.pid")" 2>/dev/null || true
exit 1
