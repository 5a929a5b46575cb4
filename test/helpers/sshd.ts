/**
 * A real OpenSSH sshd on 127.0.0.1 for tests (scripts/sshd-start.sh): own temp dir, host key,
 * client key (made here with ssh-keygen), authorized_keys and a free port. No system sshd.
 *
 * Login is as the user running the tests (root in CI; `PermitRootLogin prohibit-password`).
 * The remote HOME is `<dir>/home` (sshd `SetEnv HOME=`), and sshd also reads keys from
 * `<dir>/home/.ssh/authorized_keys`, so a deployment's sshKey step writes and proves a key
 * there and never touches the real ~/.ssh of the user. Why not a dedicated system user
 * (useradd): that needs a setup step outside the test run, changes /etc/passwd on the shared
 * machine, and its home would be shared by parallel test files and kept between runs; a per-sshd
 * HOME needs nothing but openssh-server and vanishes with the temp dir.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));

/** A private sshd and what a client needs to log in to it. */
export interface SshdFixture {
  host: '127.0.0.1';
  port: number;
  username: string;
  /** OpenSSH private key text of the client key sshd accepts */
  privateKey: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it for the host key */
  hostKeyFingerprint: string;
  /** the remote user's ~/.ssh/authorized_keys (where sshKey steps write); sshd accepts keys from it */
  authorizedKeysPath: string;
  /** the remote user's HOME */
  homeDir: string;
  /** the temp dir holding everything */
  dir: string;
  /** stops sshd and removes the temp dir; safe to call twice */
  stop(): Promise<void>;
}

/** Keys, dir and port ready, sshd not started yet (for "SSH is not up yet" tests). */
export interface PreparedSshd extends SshdFixture {
  start(): Promise<void>;
}

/** Generates keys and picks a free port without starting sshd. */
export async function prepareSshd(): Promise<PreparedSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'skygraph-sshd-'));
  await keygen(join(dir, 'ssh_host_ed25519_key'), 'skygraph-test-host');
  const client = await generateClientKey(dir, 'id_ed25519');
  const hostKeyFingerprint = await fingerprintOf(join(dir, 'ssh_host_ed25519_key.pub'));
  const port = await freePort();
  let started = false;
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    username: userInfo().username,
    privateKey: client.privateKey,
    hostKeyFingerprint,
    authorizedKeysPath: join(dir, 'home', '.ssh', 'authorized_keys'),
    homeDir: join(dir, 'home'),
    dir,
    async start() {
      if (started) throw new Error('sshd already started');
      started = true;
      await run('bash', [join(SCRIPTS, 'sshd-start.sh'), dir, String(port)]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (started) await run('bash', [join(SCRIPTS, 'sshd-stop.sh'), dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a private sshd on a free port. */
export async function startSshd(): Promise<SshdFixture> {
  const sshd = await prepareSshd();
  try {
    await sshd.start();
  } catch (err) {
    await sshd.stop();
    throw err;
  }
  return sshd;
}

/** An ed25519 client key made by ssh-keygen in `dir` (`<name>` and `<name>.pub`). */
export async function generateClientKey(
  dir: string,
  name: string,
): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const path = join(dir, name);
  await keygen(path, `skygraph-${name}`);
  return {
    privateKey: await readFile(path, 'utf8'),
    publicKey: (await readFile(`${path}.pub`, 'utf8')).trim(),
    fingerprint: await fingerprintOf(`${path}.pub`),
  };
}

/** A port nothing listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

// --- Internal helpers ---

async function keygen(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

async function fingerprintOf(pubPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath]);
  const fp = stdout.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`);
  return fp;
}
