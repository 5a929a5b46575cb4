/**
 * Azurite (Microsoft's Azure Storage emulator, npm `azurite`) for tests: the blob service as a
 * child process on a free 127.0.0.1 port (it binds port 0 and prints the one it got), in-memory
 * persistence, telemetry off, run from a temp dir that stop() removes.
 *
 * Notes:
 * - azurite 3.36+ declares node >=22 but runs on Node 20 (npm only warns);
 * - `--disableTelemetry` always: otherwise it tries to reach applicationinsights.azure.com;
 * - `--skipApiVersionCheck`: it would refuse x-ms-version values newer than it knows;
 * - `--inMemoryPersistence` cannot be combined with `--location`, so nothing is written to disk;
 * - Shared Key and SAS signatures are verified, so a wrong key really fails.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Azurite blob service. */
export interface AzuriteHandle {
  /** path-style blob endpoint: http://127.0.0.1:<port>/devstoreaccount1 */
  endpoint: string;
  port: number;
  accountName: string;
  accountKey: string;
  pid: number;
  stop(): Promise<void>;
}

/** Azurite's well-known development account (published in its README and Microsoft's docs). */
export const AZURITE_ACCOUNT = {
  accountName: 'devstoreaccount1',
  accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
} as const;

const require = createRequire(import.meta.url);

export async function startAzurite(): Promise<AzuriteHandle> {
  const main = join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'blob', 'main.js');
  const directory = await mkdtemp(join(tmpdir(), 'skygraph-azurite-'));
  const args = [
    main,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    '0',
    '--inMemoryPersistence',
    '--disableTelemetry',
    '--skipApiVersionCheck',
  ];
  const child = spawn(process.execPath, args, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`azurite exited (${code ?? signal}): ${output}`)));
      setTimeout(() => reject(new Error(`azurite did not start within 30 s: ${output}`)), 30_000).unref();
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  // why: its access log goes to stdout; keep draining so a full pipe never blocks it
  child.stdout!.resume();
  child.stderr!.resume();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT.accountName}`,
    port,
    ...AZURITE_ACCOUNT,
    pid: child.pid!,
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
