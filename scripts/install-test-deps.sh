#!/bin/bash
# install-test-deps.sh -- installs the apt packages the test suites need, only those missing (idempotent).
# Add a package by appending it to APT_PACKAGES (one per line, with the suite that needs it).
set -euo pipefail

APT_PACKAGES=(
  redis-server # test/live (src/live redis pubsub + leases), scripts/redis-start.sh
  swift           # test/providers/s3-swift.test.ts (Swift AIO with s3api), scripts/swift-start.sh
  swift-proxy     # scripts/swift-start.sh: proxy with tempauth, s3api, tempurl, slo
  swift-object    # scripts/swift-start.sh: object server
  swift-container # scripts/swift-start.sh: container server + updater
  swift-account   # scripts/swift-start.sh: account server
  python3-swift   # scripts/swift-start.sh (pulls python3-lxml, which s3api needs)
  memcached       # scripts/swift-start.sh: tempauth keeps its tokens in memcache
  openssh-server  # test/deploy (private sshd on 127.0.0.1), scripts/sshd-start.sh; policy-rc.d keeps the system sshd down
  openssh-client  # test/helpers/sshd.ts: ssh-keygen for host and client keys
  python3-nova              # test/providers/nova-real.test.ts: real Nova API (fake virt driver), scripts/nova-fake.py
  python3-placement         # scripts/nova-fake.py: in-process placement
  python3-wsgi-intercept    # scripts/nova-fake.py: Nova's functional-test harness needs it
  python3-oslotest          # scripts/nova-fake.py: Nova's functional-test harness needs it
  python3-keystonemiddleware # scripts/nova-fake.py: real token validation (bad token -> 401)
  apache2         # test/http/digest-httpd.test.ts: real mod_auth_digest, scripts/httpd-digest-start.sh (own config, never the system service)
  openssl         # test/helpers/pki.ts (test CAs and certificates), test/helpers/tls-server.ts (s_server): test/http/tls.test.ts, test/providers/kubevirt.test.ts, test/signers/azure-shared-key.test.ts
  pdns-server           # test/providers/powerdns.test.ts: real PowerDNS Authoritative (test/helpers/pdns.ts, scripts/pdns-start.sh)
  pdns-backend-sqlite3  # test/helpers/pdns.ts: the gsqlite3 backend and its schema
  sqlite3               # test/helpers/pdns.ts: creates the backend's database from that schema
  chromium          # test/api/browser.test.ts: the dashboard and GraphiQL in Debian's Chromium (playwright-core, no browser download); scripts/screenshot-dashboard.ts
  fonts-dejavu-core # chromium: text in scripts/screenshot-dashboard.ts (chromium only recommends fonts)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present (${APT_PACKAGES[*]})"
  exit 0
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# why: several people share this machine; wait for another apt run instead of failing on its lock
APT_OPTS=(-o DPkg::Lock::Timeout=600)
apt-get "${APT_OPTS[@]}" update -qq
apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
