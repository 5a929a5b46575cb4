/**
 * Fan-out: wall time of one `nodes` query over 1 and over 8 sandbox accounts, each answering
 * after latencyMs = 200. Accounts are queried in parallel, so 8 should take about as long as 1.
 *   npm run bench:fanout
 */
import { validateConfig } from '../src/config/index.ts';
import { buildApp } from '../src/server.ts';
import { createLogger } from '../src/logger.ts';

const LATENCY_MS = 200;
const RUNS = 5;

async function measure(accounts: number) {
  const config = await validateConfig(
    { accounts: Array.from({ length: accounts }, (_, i) => ({ id: `sandbox-${i + 1}`, driver: 'sandbox', options: { latencyMs: LATENCY_MS, nodes: 20 } })) },
    '<bench>',
  );
  const app = await buildApp(config, { logger: createLogger('silent') });
  const url = await app.start(0);
  const query = '{ nodes(first: 1000) { totalCount edges { node { id state size { price } image { name } location { country } } } failures { account } } }';
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const json = (await res.json()) as { data: { nodes: { totalCount: number; failures: unknown[] } } };
    times.push(performance.now() - started);
    total = json.data.nodes.totalCount;
    if (json.data.nodes.failures.length) throw new Error('unexpected failures');
  }
  const calls = app.runtime.upstreamCalls.sum() / RUNS;
  await app.stop();
  times.sort((a, b) => a - b);
  return { accounts, nodes: total, medianMs: times[Math.floor(RUNS / 2)]!, minMs: times[0]!, callsPerQuery: calls };
}

const one = await measure(1);
const eight = await measure(8);
console.log(`sandbox latencyMs=${LATENCY_MS}, ${RUNS} runs each, query: nodes with size, image, location`);
for (const r of [one, eight]) {
  console.log(
    `${String(r.accounts).padStart(2)} account(s): ${r.nodes} nodes, median ${r.medianMs.toFixed(0)} ms, min ${r.minMs.toFixed(0)} ms, upstream calls per query ${r.callsPerQuery}`,
  );
}
console.log(`8 accounts / 1 account wall time: ${(eight.medianMs / one.medianMs).toFixed(2)}x (sequential would be ~8x)`);
