#!/bin/bash
# sshd-start.sh DIR [PORT] -- runs a private OpenSSH sshd on 127.0.0.1 for tests.
#
# Everything lives in DIR: host key, client key, authorized_keys, sshd_config, pid and log files.
# Nothing under /etc/ssh is used or touched and no system sshd is started (port 22 stays closed).
# Keys that already exist in DIR are kept, so a caller (test/helpers/sshd.ts) may generate them first.
# Without PORT a free port is picked (and picked again if another process grabs it first).
# On success the port is written to DIR/port and printed as the last line of stdout.
#
# Login: the user running this script (root in CI) with the key DIR/id_ed25519; no passwords.
# The session HOME is DIR/home (SetEnv), and sshd also accepts keys from DIR/home/.ssh/authorized_keys:
# a deployment's sshKey step then writes there, never to the real ~/.ssh of the user (see
# test/helpers/sshd.ts for why this beats a dedicated system user).
# Stop with scripts/sshd-stop.sh DIR.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: $0 DIR [PORT]}")
WANT_PORT=${2:-}

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
  echo "sshd-start: openssh-server/openssh-client missing; run scripts/install-test-deps.sh" >&2
  exit 1
fi
if [ -f "$DIR/sshd.pid.self" ] && kill -0 "$(cat "$DIR/sshd.pid.self")" 2>/dev/null; then
  echo "sshd-start: already running (pid $(cat "$DIR/sshd.pid.self")) in $DIR" >&2
  exit 1
fi

mkdir -p "$DIR" "$DIR/home"
chmod 700 "$DIR" "$DIR/home"
# why: sshd refuses to start without its privilege-separation directory (normally made by the init script)
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi

[ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C skygraph-test-host -f "$DIR/ssh_host_ed25519_key"
[ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C skygraph-test-client -f "$DIR/id_ed25519"
[ -f "$DIR/authorized_keys" ] || cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
chmod 600 "$DIR/authorized_keys"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

write_config() {
  cat > "$DIR/sshd_config" <<EOF
Port $1
ListenAddress 127.0.0.1
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys $DIR/home/.ssh/authorized_keys
SetEnv HOME=$DIR/home
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowUsers $(id -un)
Subsystem sftp internal-sftp
LogLevel INFO
MaxStartups 50:30:100
EOF
}

for attempt in 1 2 3 4 5; do
  port=${WANT_PORT:-$(free_port)}
  write_config "$port"
  /usr/sbin/sshd -t -f "$DIR/sshd_config"
  : > "$DIR/sshd.log"
  /usr/sbin/sshd -D -e -f "$DIR/sshd_config" >>"$DIR/sshd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$DIR/sshd.pid.self"
  # why: wait for sshd's own "Server listening" line rather than probing the port, which would log a
  # failed key exchange and count against MaxStartups
  for _ in $(seq 1 200); do
    grep -q "Server listening on 127.0.0.1 port $port" "$DIR/sshd.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.025
  done
  if kill -0 "$pid" 2>/dev/null && grep -q "Server listening on 127.0.0.1 port $port" "$DIR/sshd.log"; then
    echo "$port" > "$DIR/port"
    echo "sshd-start: up on 127.0.0.1:$port pid $pid user $(id -un) key $DIR/id_ed25519"
    echo "$port"
    exit 0
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$DIR/sshd.pid.self"
  if [ -n "$WANT_PORT" ] || ! grep -q 'Address already in use' "$DIR/sshd.log"; then break; fi
  echo "sshd-start: port $port taken (attempt $attempt), picking another" >&2
done
echo "sshd-start: sshd did not start:" >&2
cat "$DIR/sshd.log" >&2
exit 1
