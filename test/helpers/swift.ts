/**
 * A throwaway OpenStack Swift all-in-one for tests, started with scripts/swift-start.sh on free
 * 127.0.0.1 ports in a temp dir and stopped (every recorded PID, then the dir) with
 * scripts/swift-stop.sh. Fails, never skips, when the Debian packages are missing.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const MISSING =
  'OpenStack Swift is not installed: run scripts/install-test-deps.sh (Debian packages swift swift-proxy swift-object swift-container swift-account memcached)';
const BINARIES = ['swift-proxy-server', 'swift-object-server', 'swift-container-server', 'swift-account-server', 'swift-ring-builder', 'memcached'];

/** A tempauth user (v1.0 auth: X-Auth-User / X-Auth-Key). */
export interface SwiftUser {
  user: string;
  key: string;
}

/** A running Swift AIO: what scripts/swift-start.sh printed. */
export interface SwiftHandle {
  dir: string;
  proxyUrl: string;
  /** GET with X-Auth-User/X-Auth-Key -> X-Auth-Token, X-Storage-Url */
  authUrl: string;
  /** storage URL of the AUTH_test account */
  storageUrl: string;
  /** test:tester (.admin on AUTH_test) */
  tester: SwiftUser;
  /** test2:tester2 (.admin on AUTH_test2) */
  tester2: SwiftUser;
  /** test:tester3 (no admin role) */
  tester3: SwiftUser;
  /** admin:admin (.reseller_admin) */
  admin: SwiftUser;
  /** the s3api middleware: path-style, real SigV2/SigV4 checks */
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** every SWIFT_* variable the script exported */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSwift(): Promise<SwiftHandle> {
  await requireBinaries();
  let stdout: string;
  try {
    ({ stdout } = await run(join(ROOT, 'scripts/swift-start.sh'), [], { timeout: 110_000, maxBuffer: 1024 * 1024 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/swift-start.sh failed: ${e.stderr?.trim() || e.message}`);
  }
  const env = parseExports(stdout);
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`scripts/swift-start.sh did not print ${name}`);
    return value;
  };
  const dir = need('SWIFT_DIR');
  let stopping: Promise<void> | undefined;
  return {
    dir,
    proxyUrl: need('SWIFT_PROXY_URL'),
    authUrl: need('SWIFT_AUTH_URL'),
    storageUrl: need('SWIFT_STORAGE_URL'),
    tester: { user: need('SWIFT_USER'), key: need('SWIFT_KEY') },
    tester2: { user: need('SWIFT_USER2'), key: need('SWIFT_KEY2') },
    tester3: { user: need('SWIFT_USER3'), key: need('SWIFT_KEY3') },
    admin: { user: need('SWIFT_ADMIN_USER'), key: need('SWIFT_ADMIN_KEY') },
    s3: {
      endpoint: need('SWIFT_S3_ENDPOINT'),
      region: need('SWIFT_S3_REGION'),
      accessKeyId: need('SWIFT_S3_ACCESS_KEY'),
      secretAccessKey: need('SWIFT_S3_SECRET_KEY'),
    },
    env,
    stop: () =>
      (stopping ??= run(join(ROOT, 'scripts/swift-stop.sh'), [dir], { timeout: 60_000 }).then(() => undefined)),
  };
}

// --- Internal helpers ---

async function requireBinaries(): Promise<void> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const bin of BINARIES) {
    const found = await Promise.any(dirs.map((d) => access(join(d, bin), constants.X_OK))).then(
      () => true,
      () => false,
    );
    if (!found) throw new Error(`${MISSING}; ${bin} is not on PATH`);
  }
}

/** `export A='x' B='y'` lines -> {A: 'x', B: 'y'} (values never hold a quote). */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('export ')) continue;
    for (const m of line.matchAll(/([A-Z0-9_]+)='([^']*)'/g)) out[m[1] as string] = m[2] as string;
  }
  return out;
}
