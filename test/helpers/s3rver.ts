/**
 * s3rver (an S3 emulator on the local filesystem) for tests: in-process on a free 127.0.0.1 port,
 * or as a child process (benchmarks, so it does not share an event loop with the code measured).
 * Data lives in a temp dir that stop() deletes.
 *
 * Known limits of s3rver 3.7 that the tests work around, none of which needs a patch:
 * - SigV4 signatures are not verified (a wrong secret is accepted; Swift s3api covers that);
 * - ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has with
 *   `--openssl-legacy-provider` (vitest.config.ts passes it to the test workers);
 * - its XML uses a non-standard namespace; skygraph's parser ignores namespaces, so the
 *   patch-s3rver.sh rewrite is not needed;
 * - ListMultipartUploads and AbortMultipartUpload are not implemented.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running s3rver and how to reach it. */
export interface S3rverHandle {
  /** http://127.0.0.1:<port> (path-style only) */
  endpoint: string;
  port: number;
  /** where s3rver keeps buckets and objects */
  directory: string;
  /** s3rver's fixed account; it checks the key id, not the SigV4 signature */
  accessKeyId: string;
  secretAccessKey: string;
  /** the child's pid (child-process mode only) */
  pid?: number;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const ACCOUNT = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Starts s3rver inside this process. */
export async function startS3rver(): Promise<S3rverHandle> {
  checkDesAvailable();
  const S3rver = require('s3rver') as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), 'skygraph-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    ...ACCOUNT,
    stop: () =>
      (stopping ??= (async () => {
        await server.close();
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}

/**
 * Starts s3rver as a child process (`node --openssl-legacy-provider …/s3rver.js`). `parentDir`
 * holds its data dir (default the OS temp dir; a tmpfs such as /dev/shm keeps disk noise out of
 * benchmarks).
 */
export async function startS3rverProcess(opts: { parentDir?: string } = {}): Promise<S3rverHandle> {
  const bin = join(require.resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');
  const directory = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'skygraph-s3rver-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = ['--openssl-legacy-provider', bin, '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--no-vhost-buckets', '--silent'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitForHttp(child, `http://127.0.0.1:${port}/`);
      return childHandle(child, port, directory);
    } catch (err) {
      // why: another process may take the free port between the probe and s3rver binding it
      lastError = err;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  await rm(directory, { recursive: true, force: true });
  throw new Error(`s3rver did not start after 5 attempts: ${String(lastError)}`);
}

// --- Internal helpers ---

function checkDesAvailable(): void {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error('s3rver needs DES for ListObjectsV2 continuation tokens: run node with --openssl-legacy-provider (vitest.config.ts does)');
  }
}

function childHandle(child: ChildProcess, port: number, directory: string): S3rverHandle {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    ...ACCOUNT,
    pid: child.pid,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}

async function waitForHttp(child: ChildProcess, url: string): Promise<void> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`s3rver exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`s3rver did not answer on ${url} within 15 s: ${stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
