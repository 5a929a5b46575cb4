/**
 * How long `npm start` takes: from the command being issued to the first successful GET /healthz,
 * on the embedded default config. The first run may build dist/; the runs after it are "nothing
 * changed" starts, which is what this reports (median, min and max).
 *   npx tsx bench/start-time.ts [runs] [-- command ...]     (default: 5 runs of `npm start`)
 * The port goes in $PORT, so any start command can be timed, e.g. the one `npm start` ran
 * before issue 13 (a full tsc build every time):
 *   npx tsx bench/start-time.ts 5 -- sh -c 'npm exec --silent -- tsc -p tsconfig.build.json && node --enable-source-maps --max-semi-space-size=32 dist/main.js'
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const dash = process.argv.indexOf('--');
const RUNS = Number((dash === 2 ? undefined : process.argv[2]) ?? 5);
const COMMAND = dash > 0 ? process.argv.slice(dash + 1) : ['npm', 'start', '--silent'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Milliseconds from spawning `npm start` to the first 200 from /healthz. */
async function startOnce(): Promise<number> {
  const port = await freePort();
  const data = mkdtempSync(path.join(tmpdir(), 'skygraph-start-'));
  const started = performance.now();
  // why: detached, so the whole group (npm, sh, node) can be stopped with one signal
  const child = spawn(COMMAND[0]!, COMMAND.slice(1), {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // why: no SKYGRAPH_CONFIG and no ./skygraph.yaml in the repo: the embedded default config
    env: { ...process.env, PORT: String(port), SKYGRAPH_CONFIG: '', SKYGRAPH_DATA: data, SKYGRAPH_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${COMMAND.join(' ')} exited: ${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`no /healthz after 60 s: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await gone;
    }
    rmSync(data, { recursive: true, force: true });
  }
}

const first = await startOnce();
console.log(`first start (may build dist/): ${first.toFixed(0)} ms`);
const times: number[] = [];
for (let i = 0; i < RUNS; i++) times.push(await startOnce());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(`${COMMAND.join(' ')} -> first /healthz, nothing changed, ${RUNS} runs: median ${median.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)})`);
