/** Runs skygraph as a child process (as `npm start` does), to measure its memory from outside. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export interface ServerProcess {
  url: string;
  pid: number;
  dir: string;
  child: ChildProcess;
  /** what the process wrote to stderr so far (its warn/error log lines) */
  stderr(): string;
  /** resident set size in bytes, from /proc */
  rss(): number;
  stop(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

let compiled = false;

/**
 * Benchmarks measure what `npm start` runs: the compiled build, not tsx (whose loader adds
 * ~50 MB of RSS). Builds dist/ once and makes later startServerProcess calls use it.
 */
export function useCompiledServer(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  compiled = true;
}

export async function startServerProcess(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
  /** extra node flags for the child, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] */
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skygraph-proc-'));
  const file = path.join(dir, 'skygraph.yaml');
  writeFileSync(file, stringify(config).replaceAll('$DIR', dir));
  const entry = compiled ? [path.join(ROOT, 'dist/main.js')] : ['--import', 'tsx', path.join(ROOT, 'src/main.ts')];
  const child = spawn(process.execPath, [...startFlags(), ...nodeArgs, ...entry, '--port', '0', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, SKYGRAPH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/[^\s]+)\/graphql/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`skygraph exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`skygraph did not start in 30 s: ${stderr}`)), 30_000).unref();
  });
  return {
    url,
    pid: child.pid!,
    dir,
    child,
    stderr: () => stderr,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
      return kb * 1024;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The node flags of package.json's start script, so a child runs as `npm start` runs it. */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const m = /\bnode((?: --[^\s]+)*) dist\/main\.js/.exec(pkg.scripts.start);
  if (!m) throw new Error('package.json start script does not run node ... dist/main.js');
  return m[1]!.split(' ').filter(Boolean);
}
