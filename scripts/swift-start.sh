#!/bin/bash
# swift-start.sh [DIR] -- starts a throwaway OpenStack Swift all-in-one (Debian packages) on free
# 127.0.0.1 ports, every byte of state under DIR (a new temp dir when omitted).
#
#   proxy      tempauth (v1.0), s3api, tempurl, formpost, slo, dlo, bulk, versioned_writes, symlink, quotas
#   object / container / account servers, swift-container-updater (account stats every 2 s)
#   memcached  (tempauth keeps its tokens in memcache)
#
# Every daemon runs in the foreground of its own process (workers = 0), so DIR/run/<name>.pid is the
# real PID; scripts/swift-stop.sh DIR stops exactly those and deletes DIR.
#
# On success prints shell assignments on stdout (also written to DIR/env), so either
#   eval "$(scripts/swift-start.sh)"      or      . DIR/env
#   SWIFT_DIR             the state dir (pass it to swift-stop.sh)
#   SWIFT_PROXY_URL       http://127.0.0.1:<port>
#   SWIFT_AUTH_URL        $SWIFT_PROXY_URL/auth/v1.0 (X-Auth-User / X-Auth-Key)
#   SWIFT_STORAGE_URL     $SWIFT_PROXY_URL/v1/AUTH_test
#   SWIFT_USER/SWIFT_KEY                 test:tester / testing     (.admin on AUTH_test)
#   SWIFT_USER2/SWIFT_KEY2               test2:tester2 / testing2  (.admin on AUTH_test2)
#   SWIFT_USER3/SWIFT_KEY3               test:tester3 / testing3   (no admin role)
#   SWIFT_ADMIN_USER/SWIFT_ADMIN_KEY     admin:admin / admin       (.reseller_admin)
#   SWIFT_S3_ENDPOINT, SWIFT_S3_REGION, SWIFT_S3_ACCESS_KEY, SWIFT_S3_SECRET_KEY   s3api (SigV2/V4, path-style)
#   SWIFT_MEMCACHED       127.0.0.1:<port>
# These are fixed test credentials of a loopback-only throwaway server, not secrets.
#
# Env: SWIFT_START_TIMEOUT  seconds to wait for readiness (default 60)
set -euo pipefail

TIMEOUT=${SWIFT_START_TIMEOUT:-60}
MARKER=.skygraph-swift-aio
log() { echo "swift-start: $*" >&2; }

for bin in swift-proxy-server swift-object-server swift-container-server swift-account-server \
  swift-container-updater swift-ring-builder memcached curl; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    log "$bin is not installed; run scripts/install-test-deps.sh (Debian packages swift swift-proxy swift-object swift-container swift-account memcached)"
    exit 1
  fi
done

if [ -n "${1:-}" ]; then
  DIR=$(realpath -m "$1")
  if [ -d "$DIR/run" ]; then
    for f in "$DIR"/run/*.pid; do
      [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && { log "$DIR already has a running Swift ($f); stop it first: scripts/swift-stop.sh $DIR"; exit 2; }
    done
  fi
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/skygraph-swift-XXXXXX")
fi
touch "$DIR/$MARKER"
ETC=$DIR/etc RUN=$DIR/run LOG=$DIR/log DEV=$DIR/srv/node
rm -rf "$ETC" "$RUN" && mkdir -p "$ETC" "$RUN" "$LOG" "$DEV/d1" "$DIR/cache" "$DIR/tmp"
ME=$(id -un)

# why: bind all five at once so they are distinct; a race with another process is caught below
read -r PROXY_PORT OBJ_PORT CONT_PORT ACCT_PORT MC_PORT < <(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')

# ---------------------------------------------------------------- config
cat > "$ETC/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = skygraph-aio-suffix
swift_hash_path_prefix = skygraph-aio-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
EOF

server_conf() { # name port app [extra section]
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $ME
swift_dir = $ETC
devices = $DEV
mount_check = false
disable_fallocate = true
log_level = INFO
log_address = $RUN/no-syslog
recon_cache_path = $DIR/cache

[pipeline:main]
pipeline = healthcheck $1-server

[app:$1-server]
use = egg:swift#$3

[filter:healthcheck]
use = egg:swift#healthcheck
${4:-}
EOF
}
server_conf object "$OBJ_PORT" object > "$ETC/object-server.conf"
server_conf container "$CONT_PORT" container "
[container-updater]
# why: pushes container object counts and bytes to the account, so account HEAD/listings show them
interval = 2
concurrency = 1" > "$ETC/container-server.conf"
server_conf account "$ACCT_PORT" account > "$ETC/account-server.conf"

{
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
workers = 0
user = $ME
swift_dir = $ETC
log_level = INFO
log_address = $RUN/no-syslog
recon_cache_path = $DIR/cache

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl formpost s3api tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
reseller_prefix = AUTH
token_life = 86400
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test_tester3 = testing3
user_test2_tester2 = testing2 .admin

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
force_swift_request_proxy_log = false

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT

[filter:tempurl]
use = egg:swift#tempurl
methods = GET HEAD PUT POST DELETE

[filter:slo]
use = egg:swift#slo
min_segment_size = 1

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
EOF
  for f in catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk formpost copy \
    container-quotas account-quotas dlo symlink; do
    printf '\n[filter:%s]\nuse = egg:swift#%s\n' "$f" "${f//-/_}"
  done
} > "$ETC/proxy-server.conf"

# ---------------------------------------------------------------- rings (one device, one replica)
for spec in "object $OBJ_PORT" "container $CONT_PORT" "account $ACCT_PORT"; do
  set -- $spec
  swift-ring-builder "$ETC/$1.builder" create 8 1 1 >/dev/null
  swift-ring-builder "$ETC/$1.builder" add "r1z1-127.0.0.1:$2/d1" 100 >/dev/null
  # why: exit status 1 is a "warning" (e.g. balance); the ring file is written anyway
  swift-ring-builder "$ETC/$1.builder" rebalance >/dev/null || [ -f "$ETC/$1.ring.gz" ]
done

# ---------------------------------------------------------------- start
NAMES=(memcached object container account updater proxy)
start() { # name cmd...
  local name=$1
  shift
  # why: the daemons' own temp files go under DIR, so swift-stop.sh removes them too
  TMPDIR="$DIR/tmp" nohup "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}
fail() {
  log "$1"
  for name in "${NAMES[@]}"; do
    [ -s "$LOG/$name.log" ] && { echo "--- $LOG/$name.log (tail)" >&2; tail -n 15 "$LOG/$name.log" >&2; }
  done
  "$(dirname "$0")/swift-stop.sh" "$DIR" >&2 || true
  exit 1
}
alive() { kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start memcached memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 -u "$ME"
start object swift-object-server "$ETC/object-server.conf" -v
start container swift-container-server "$ETC/container-server.conf" -v
start account swift-account-server "$ETC/account-server.conf" -v
start updater swift-container-updater "$ETC/container-server.conf" -v
start proxy swift-proxy-server "$ETC/proxy-server.conf" -v

deadline=$((SECONDS + TIMEOUT))
for port in "$OBJ_PORT" "$CONT_PORT" "$ACCT_PORT" "$PROXY_PORT"; do
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null; do
    for name in "${NAMES[@]}"; do alive "$name" || fail "$name exited during startup"; done
    [ $SECONDS -ge $deadline ] && fail "timed out after ${TIMEOUT}s waiting for 127.0.0.1:$port"
    sleep 0.1
  done
done
# why: a healthcheck can be answered by another process that took the port; tempauth proves it is ours
until curl -fsS -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://127.0.0.1:$PROXY_PORT/auth/v1.0"; do
  [ $SECONDS -ge $deadline ] && fail "tempauth did not answer on 127.0.0.1:$PROXY_PORT"
  sleep 0.1
done
for name in "${NAMES[@]}"; do alive "$name" || fail "$name exited during startup"; done

URL=http://127.0.0.1:$PROXY_PORT
cat >"$DIR/env" <<EOF
export SWIFT_DIR='$DIR'
export SWIFT_PROXY_URL='$URL'
export SWIFT_AUTH_URL='$URL/auth/v1.0'
export SWIFT_STORAGE_URL='$URL/v1/AUTH_test'
export SWIFT_USER='test:tester' SWIFT_KEY='testing'
export SWIFT_USER2='test2:tester2' SWIFT_KEY2='testing2'
export SWIFT_USER3='test:tester3' SWIFT_KEY3='testing3'
export SWIFT_ADMIN_USER='admin:admin' SWIFT_ADMIN_KEY='admin'
export SWIFT_S3_ENDPOINT='$URL' SWIFT_S3_REGION='us-east-1'
export SWIFT_S3_ACCESS_KEY='test:tester' SWIFT_S3_SECRET_KEY='testing'
export SWIFT_MEMCACHED='127.0.0.1:$MC_PORT'
EOF
log "up at $URL (dir $DIR; stop with scripts/swift-stop.sh $DIR)"
cat "$DIR/env"
