#!/bin/bash
# httpd-digest-start.sh DIR [PORT] -- runs a private Apache httpd with mod_auth_digest on 127.0.0.1 for tests.
#
# Everything lives in DIR: httpd.conf, the htdigest file, the document root, pid, logs and runtime
# files. Nothing under /etc/apache2 is read or written and the system apache2 service is never
# started (policy-rc.d keeps it down). Without PORT a free port is picked (and picked again if
# another process grabs it first). On success the port is written to DIR/port and printed as the
# last line of stdout.
#
# The user and password come from the environment (DIGEST_USER, DIGEST_PASSWORD; realm
# DIGEST_REALM, default skygraph-test), never from the command line, so they stay out of `ps`.
# Layout (all Digest-protected, algorithm MD5, qop=auth, nonce-count checking on):
#   /hello.txt        a static file
#   /short/hello.txt  the same under AuthDigestNonceLifetime 1 (stale nonces within seconds)
#   /echo             mod_reflector: answers a POST with its own body
# access.log has one line per request: status, method, path, the Authorization header sent and the
# WWW-Authenticate header answered.
# Stop with scripts/httpd-digest-stop.sh DIR.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR [PORT]}")
WANT_PORT=${2:-}
USER_NAME=${DIGEST_USER:?DIGEST_USER must be set}
PASSWORD=${DIGEST_PASSWORD:?DIGEST_PASSWORD must be set}
REALM=${DIGEST_REALM:-skygraph-test}
MODULES=/usr/lib/apache2/modules

if ! command -v apache2 >/dev/null || [ ! -f "$MODULES/mod_auth_digest.so" ]; then
  echo "httpd-digest-start: apache2 missing; run scripts/install-test-deps.sh" >&2
  exit 1
fi
if [ -f "$DIR/httpd.pid" ] && kill -0 "$(cat "$DIR/httpd.pid")" 2>/dev/null; then
  echo "httpd-digest-start: already running (pid $(cat "$DIR/httpd.pid")) in $DIR" >&2
  exit 1
fi

mkdir -p "$DIR/htdocs/short" "$DIR/run"
printf 'hello through digest\n' > "$DIR/htdocs/hello.txt"
cp "$DIR/htdocs/hello.txt" "$DIR/htdocs/short/hello.txt"
# htdigest format: user:realm:MD5(user:realm:password)
HA1=$(printf '%s:%s:%s' "$USER_NAME" "$REALM" "$PASSWORD" | md5sum | cut -d' ' -f1)
printf '%s:%s:%s\n' "$USER_NAME" "$REALM" "$HA1" > "$DIR/htdigest"

# why: as root, httpd's children switch to an unprivileged user, which must read the docroot and htdigest
RUN_AS=$(id -un)
RUN_GROUP=$(id -gn)
if [ "$(id -u)" = 0 ]; then
  RUN_AS=www-data
  RUN_GROUP=www-data
  chmod 755 "$DIR" "$DIR/htdocs" "$DIR/htdocs/short"
  chmod 644 "$DIR/htdigest" "$DIR/htdocs/hello.txt" "$DIR/htdocs/short/hello.txt"
  chown "$RUN_AS:$RUN_GROUP" "$DIR/run"
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

write_config() {
  cat > "$DIR/httpd.conf" <<CONF
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$1
PidFile "$DIR/httpd.pid"
DefaultRuntimeDir "$DIR/run"
Mutex file:$DIR/run default
User $RUN_AS
Group $RUN_GROUP
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule auth_digest_module $MODULES/mod_auth_digest.so
LoadModule reflector_module $MODULES/mod_reflector.so
StartServers 1
ServerLimit 1
ThreadsPerChild 8
MaxRequestWorkers 8
ErrorLog "$DIR/error.log"
LogLevel warn auth_digest:info
LogFormat "%>s %m %U \"%{Authorization}i\" \"%{WWW-Authenticate}o\"" digest
CustomLog "$DIR/access.log" digest
DocumentRoot "$DIR/htdocs"
KeepAlive On
<Directory />
  Require all denied
</Directory>
<Location />
  AuthType Digest
  AuthName "$REALM"
  AuthDigestProvider file
  AuthUserFile "$DIR/htdigest"
  AuthDigestDomain /
  AuthDigestNcCheck On
  Require valid-user
</Location>
<Location /short>
  AuthDigestNonceLifetime 1
</Location>
<Location /echo>
  SetHandler reflector
</Location>
CONF
}

for attempt in 1 2 3 4 5; do
  port=${WANT_PORT:-$(free_port)}
  write_config "$port"
  : > "$DIR/error.log"
  : > "$DIR/access.log"
  apache2 -t -f "$DIR/httpd.conf" >/dev/null 2>>"$DIR/error.log" || { cat "$DIR/error.log" >&2; exit 1; }
  # why: -k start forks into the background and writes PidFile once it listens (or exits non-zero)
  if apache2 -f "$DIR/httpd.conf" -k start 2>>"$DIR/error.log"; then
    for _ in $(seq 1 200); do
      [ -s "$DIR/httpd.pid" ] && kill -0 "$(cat "$DIR/httpd.pid")" 2>/dev/null && break
      sleep 0.025
    done
    if [ -s "$DIR/httpd.pid" ] && kill -0 "$(cat "$DIR/httpd.pid")" 2>/dev/null; then
      echo "$port" > "$DIR/port"
      echo "httpd-digest-start: up on 127.0.0.1:$port pid $(cat "$DIR/httpd.pid") realm $REALM"
      echo "$port"
      exit 0
    fi
  fi
  if [ -n "$WANT_PORT" ] || ! grep -q 'Address already in use' "$DIR/error.log"; then break; fi
  echo "httpd-digest-start: port $port taken (attempt $attempt), picking another" >&2
done
echo "httpd-digest-start: httpd did not start:" >&2
cat "$DIR/error.log" >&2
exit 1
