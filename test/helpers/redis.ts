/**
 * Starts a real redis-server for a test on a free 127.0.0.1 port (no persistence, temp dir) and
 * stops exactly that process. Fails, never skips, when redis-server is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisHandle {
  url: string;
  port: number;
  /** the server's pid, for tests that must prove it is gone */
  pid: number;
  stop(): Promise<void>;
}

const MISSING = 'redis-server is not installed: run scripts/install-test-deps.sh (it installs the Debian package redis-server)';

export async function startRedis(): Promise<RedisHandle> {
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'skygraph-redis-'));
    try {
      const child = await launch(port, dir);
      return handle(child, port, dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(MISSING);
      // why: another process may take the free port between the probe and redis binding it
      lastError = err as Error;
    }
  }
  throw new Error(`redis-server did not start after 5 attempts: ${lastError?.message}`);
}

// --- Internal helpers ---

function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'];
  args.push('--daemonize', 'no', '--dir', dir, '--logfile', '', '--loglevel', 'notice');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server not ready after 10 s:\n${output}`)), 10_000);
    function fail(err: Error): void {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(err);
    }
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.stdout?.removeAllListeners('data').resume();
        child.stderr?.removeAllListeners('data').resume();
        resolve(child);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });
}

function handle(child: ChildProcess, port: number, dir: string): RedisHandle {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
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
