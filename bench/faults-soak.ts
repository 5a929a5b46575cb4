/**
 * Fault soak: N queries (default 5,000) through skygraph's HTTP server, each listing from one
 * remote driver in turn (every driver of test/faults/drivers.ts) while every upstream request
 * gets a random fault (500, 503, 429, reset, truncated, malformed, HTML, empty, oversized, and
 * 2% that hang past the deadline). Prints queries, failures by code, unhandled rejections, RSS
 * at start and end and the heap after a full GC.
 *
 *   npx tsx bench/faults-soak.ts [--queries 5000] [--concurrency 16]
 */
import { parseArgs } from 'node:util';
import { runSoak } from '../test/faults/soak.ts';

const { values } = parseArgs({ options: { queries: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '16' } } });
const started = Date.now();
const r = await runSoak({
  queries: Number(values.queries),
  concurrency: Number(values.concurrency),
  timeoutMs: 1000,
  hangMs: 1500,
  timeoutShare: 0.02,
  progress: (n) => process.stderr.write(`  ${n} queries, ${Math.round((Date.now() - started) / 1000)} s\n`),
});
console.log(`queries:               ${r.queries} in ${(r.ms / 1000).toFixed(1)} s`);
console.log(`answers not as expected: ${r.bad}`);
console.log(`failures by code:      ${Object.entries(r.failuresByCode).sort().map(([c, n]) => `${c} ${n}`).join(', ')}`);
console.log(`unhandled rejections:  ${r.unhandledRejections}`);
console.log(`RSS:                   ${r.rssStartMb} MB at start, ${r.rssEndMb} MB at end`);
console.log(`heap after full GC:    ${r.heapWarmMb} MB after warm-up, ${r.heapEndMb} MB at end`);
process.exitCode = r.bad === 0 && r.unhandledRejections === 0 ? 0 : 1;
