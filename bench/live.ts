/**
 * Live subscriptions at scale: N subscribers over graphql-ws (N = 1,000 and 10,000 on one
 * skygraph process) to one sandbox account whose nodes change state. Prints upstream polls per
 * interval (must stay 1), delivery latency from detection to the last subscriber (p50/p99),
 * and the server's RSS per 1,000 subscribers.
 *   npx tsx bench/live.ts [N ...]
 * BENCH_CPU_PROF=<dir> also writes a CPU profile of the server process to <dir>.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startServerProcess, useCompiledServer, type ServerProcess } from '../test/helpers/server-process.ts';

// why: measure what `npm start` runs (the compiled build), not the tsx loader
useCompiledServer();

const INTERVAL_MS = 1000;
const PER_CONNECTION = 100;
const CHANGES = 8;

async function gql<T>(s: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const json = (await res.json()) as { data: T; errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

async function polls(s: ServerProcess): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(/^skygraph_upstream_calls_total\{account="demo",operation="listNodes"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** user + system CPU time of a process so far, in ms (from /proc, clock ticks of 10 ms) */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function run(n: number) {
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the server process there (on stop)
  const prof = process.env.BENCH_CPU_PROF;
  const s = await startServerProcess(
    { accounts: [{ id: 'demo', driver: 'sandbox', pollIntervalMs: INTERVAL_MS, options: { nodes: 5, transitionMs: 300 } }] },
    {},
    [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
  );
  try {
    const nodes = await gql<{ nodes: { edges: { node: { id: string } }[] } }>(s, '{ nodes { edges { node { id } } } }');
    const nodeId = nodes.nodes.edges[0]!.node.id;
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = s.rss();

    // detection timestamp -> arrival time at each subscriber, per event
    const arrivals = new Map<string, number[]>();
    // why: raw graphql-transport-ws over `ws`, not graphql-ws's client: the client shares the
    // server's 2 cores, so it must do as little as possible per message to measure the server
    const clients: WebSocket[] = [];
    // the server writes fields in selection order; anything else falls back to JSON.parse
    const NEXT = /^\{"id":"[^"]*","type":"next","payload":\{"data":\{"nodeChanged":\{"timestamp":"([^"]+)","source":"([A-Z]+)","state":(?:"([A-Z_]+)"|null)\}\}\}\}$/;
    const record = (timestamp: string, source: string, state: string | null, receivedAt: number) => {
      if (source !== 'POLL') return;
      const key = `${timestamp}|${state}`;
      let list = arrivals.get(key);
      if (!list) arrivals.set(key, (list = []));
      list.push(receivedAt - Date.parse(timestamp));
    };
    const onMessage = (data: WebSocket.RawData) => {
      const receivedAt = Date.now();
      const text = data.toString();
      const m = NEXT.exec(text);
      if (m) return record(m[1]!, m[2]!, m[3] ?? null, receivedAt);
      const msg = JSON.parse(text) as {
        type: string;
        payload?: { data?: { nodeChanged: { timestamp: string; source: string; state: string | null } }; errors?: unknown };
      };
      if (msg.type === 'error' || msg.payload?.errors) return console.error('subscription error', JSON.stringify(msg.payload));
      if (msg.type !== 'next') return;
      const e = msg.payload!.data!.nodeChanged;
      record(e.timestamp, e.source, e.state, receivedAt);
    };
    const query = 'subscription { nodeChanged(accounts: ["demo"]) { timestamp source state } }';
    let subscribed = 0;
    for (let c = 0; c < Math.ceil(n / PER_CONNECTION); c++) {
      const ws = new WebSocket(s.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { perMessageDeflate: false });
      clients.push(ws);
      const count = Math.min(PER_CONNECTION, n - subscribed);
      subscribed += count;
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
        ws.once('message', (data: WebSocket.RawData) => {
          if ((JSON.parse(data.toString()) as { type: string }).type !== 'connection_ack') return reject(new Error(`no ack: ${data.toString()}`));
          ws.on('message', onMessage);
          for (let i = 0; i < count; i++) ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query } }));
          resolve();
        });
      });
    }
    // let every subscription reach the server
    await new Promise((r) => setTimeout(r, Math.max(2000, n / 2)));
    const rssSubscribed = s.rss();

    let nexts = 0;
    for (const ws of clients) ws.on('message', () => nexts++);
    const cpu0 = cpuMs(s.pid);
    const p0 = await polls(s);
    const t0 = Date.now();
    for (let i = 0; i < CHANGES; i++) {
      await gql(s, 'mutation($id: ID!) { rebootNode(id: $id) { state } }', { id: nodeId });
      await new Promise((r) => setTimeout(r, 2.5 * INTERVAL_MS));
    }
    const elapsed = Date.now() - t0;
    const p1 = await polls(s);
    const cpu = cpuMs(s.pid) - cpu0;

    const complete = [...arrivals.values()].filter((l) => l.length === n);
    const lastSubscriber = complete.map((l) => Math.max(...l));
    const all = complete.flat();
    console.log(
      [
        `N=${n}: ${clients.length} connections, ${complete.length}/${arrivals.size} poll-detected events reached all ${n} subscribers`,
        `  upstream polls: ${p1 - p0} in ${(elapsed / 1000).toFixed(1)} s = ${((p1 - p0) / (elapsed / INTERVAL_MS)).toFixed(2)} per ${INTERVAL_MS} ms interval (boosted after mutations; never more than 1 per interval per account)`,
        `  per event, last subscriber (ms): ${lastSubscriber.join(", ")}`,
        `  detection -> last subscriber: p50 ${pct(lastSubscriber, 50)} ms, p99 ${pct(lastSubscriber, 99)} ms; all deliveries p50 ${pct(all, 50)} ms, p99 ${pct(all, 99)} ms`,
        `  server CPU (user+sys) during the changes: ${(cpu / 1000).toFixed(2)} s for ${(nexts / n).toFixed(0)} events (poll and mutation) = ${(cpu / (nexts / n)).toFixed(0)} ms per event to ${n} subscribers`,
        `  server RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MiB idle, ${(rssSubscribed / 2 ** 20).toFixed(0)} MiB with ${n} subscribers = ${(((rssSubscribed - rssBefore) / 2 ** 20) / (n / 1000)).toFixed(1)} MiB per 1,000`,
      ].join('\n'),
    );
    await Promise.all(clients.map((ws) => new Promise((r) => (ws.once('close', r), ws.close()))));
  } finally {
    await s.stop();
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const n of sizes.length ? sizes : [1000, 10_000]) await run(n);
