/**
 * Load isolation: how long /healthz and a small query wait while heavy but allowed queries run
 * (pages of 1,000 rich nodes out of 50,000, sorted by name) and a client keeps querying an
 * account whose upstream hangs (an OpenStack endpoint that never answers, 1 s deadline); then the
 * load figures: queries, failures by code, RSS of the server at start and end. skygraph runs in a
 * child process so the probes measure its event loop, not their own.
 *
 *   npx tsx bench/isolation.ts [--seconds 20] [--heavy 2] [--baseline]
 *
 * `--baseline` leaves `maxConcurrency` out of the config, to run this file against a checkout
 * from before it existed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startFaultServer } from '../test/faults/fault-server.ts';

/** The heavy query: a full page of rich nodes, ordered, across five 10,000-node accounts. */
const BIG = ['big-1', 'big-2', 'big-3', 'big-4', 'big-5'];
const HEAVY =
  `{ nodes(filter: { accounts: ${JSON.stringify(BIG)} }, first: 1000, orderBy: { field: NAME }) { totalCount edges { cursor node { id name state publicIps privateIps createdAt ` +
  'tags { key value } size { name price } image { name } location { name country } } } failures { account code } } }';
const SMALL = '{ nodes(filter: { accounts: ["small"] }) { totalCount failures { account code } } }';
const HANGING = '{ nodes(filter: { accounts: ["hanging"] }) { totalCount failures { account code } } }';

interface Child {
  url: string;
  /** the server's RSS, and its heap after a full garbage collection (bytes) */
  memory(): Promise<{ rss: number; heap: number }>;
  stop(): Promise<void>;
}

async function startChild(config: unknown): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiters.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`skygraph exited with ${code}`))));
  const url = (await Promise.race([next(), exited])).replace(/^URL=/, '');
  return {
    url,
    async memory() {
      child.stdin!.write('memory\n');
      const [rss, heap] = (await next()).replace(/^MEMORY=/, '').split(',').map(Number);
      return { rss: rss!, heap: heap! };
    },
    async stop() {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

interface Answer {
  ms: number;
  /** account failures, and top-level errors that are not one (QUERY_TOO_COMPLEX, HTTP_429...) */
  codes: string[];
}

async function post(url: string, query: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as {
    data?: Record<string, { failures?: { code: string }[] }> | null;
    errors?: { extensions?: { code?: string; account?: string } }[];
  };
  const failures = Object.values(body.data ?? {}).flatMap((l) => (l.failures ?? []).map((f) => f.code));
  const other = (body.errors ?? []).filter((e) => !e.extensions?.account).map((e) => e.extensions?.code ?? 'ERROR');
  return { ms: performance.now() - t0, codes: [...failures, ...other, ...(res.status === 200 ? [] : [`HTTP_${res.status}`])] };
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return `${s.length} samples, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, worst ${(s.at(-1) ?? 0).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '20' }, heavy: { type: 'string', default: '2' }, baseline: { type: 'boolean', default: false } },
  });
  const seconds = Number(values.seconds);
  const upstream = await startFaultServer('json');
  upstream.fault = 'timeout';
  const hanging = {
    id: 'hanging',
    driver: 'openstack',
    region: 'RegionOne',
    endpoint: upstream.url,
    credentials: { token: 'bench-token' },
    timeoutMs: 1000,
    cacheTtlMs: 0,
    ...(values.baseline ? {} : { maxConcurrency: 4 }),
  };
  const accounts = [
    ...BIG.map((id) => ({ id, driver: 'sandbox', options: { nodes: 10_000 } })),
    { id: 'small', driver: 'sandbox', options: { nodes: 4 } },
    hanging,
  ];
  const child = await startChild({ accounts, server: { limits: { rateLimit: false } } });
  const start = await child.memory();
  const failuresByCode: Record<string, number> = {};
  let queries = 0;
  const count = (a: Answer) => {
    queries++;
    for (const code of a.codes) failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
  };
  // why: the first heavy query fills the result cache; later ones measure mapping and serialisation
  count(await post(child.url, HEAVY));

  const until = performance.now() + seconds * 1000;
  const heavyMs: number[] = [];
  const healthMs: number[] = [];
  const smallMs: number[] = [];
  const pause = () => new Promise((r) => setTimeout(r, 10));
  const heavy = async () => {
    while (performance.now() < until) {
      const a = await post(child.url, HEAVY);
      heavyMs.push(a.ms);
      count(a);
    }
  };
  const probeHealth = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await fetch(`${child.url}/healthz`);
      await res.text();
      healthMs.push(performance.now() - t0);
      await pause();
    }
  };
  const probeSmall = async () => {
    while (performance.now() < until) {
      const a = await post(child.url, SMALL);
      smallMs.push(a.ms);
      count(a);
      await pause();
    }
  };
  const probeHanging = async () => {
    while (performance.now() < until) count(await post(child.url, HANGING));
  };
  await Promise.all([...Array.from({ length: Number(values.heavy) }, heavy), probeHealth(), probeSmall(), probeHanging(), probeHanging()]);
  const end = await child.memory();
  await child.stop();
  await upstream.close();
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`heavy query (${values.heavy} clients back to back, ${seconds} s): ${stats(heavyMs)}`);
  console.log(`/healthz during heavy queries:  ${stats(healthMs)}`);
  console.log(`small query during heavy ones:  ${stats(smallMs)}`);
  console.log(`queries: ${queries} (heavy, small and two clients of the hanging account); failures by code: ${JSON.stringify(failuresByCode)}`);
  console.log(`hanging upstream: ${upstream.requests} requests received`);
  console.log(`server RSS: ${mb(start.rss)} MB at start, ${mb(end.rss)} MB at end; heap after a full GC: ${mb(start.heap)} MB, ${mb(end.heap)} MB`);
}

async function serve(config: string): Promise<void> {
  const { validateConfig } = await import('../src/config/index.ts');
  const { buildApp } = await import('../src/server.ts');
  const { createLogger } = await import('../src/logger.ts');
  const app = await buildApp(await validateConfig(JSON.parse(config), '<bench>', {}), { logger: createLogger('silent') });
  console.log(`URL=${await app.start(0, '127.0.0.1')}`);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line !== 'memory') return;
    const { rss } = process.memoryUsage();
    gc();
    console.log(`MEMORY=${rss},${process.memoryUsage().heapUsed}`);
  });
  input.on('close', () => void app.stop().then(() => process.exit(0)));
}

const at = process.argv.indexOf('--serve');
if (at >= 0) await serve(process.argv[at + 1]!);
else await main();
