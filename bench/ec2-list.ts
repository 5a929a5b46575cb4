/**
 * Lists 10,000 EC2 instances through the GraphQL API: skygraph in-process, the EC2 server
 * (test/helpers/ec2-server/, 10 DescribeInstances pages of 1,000 rendered from the recorded
 * templates) in a child process so its memory is not counted. Prints wall time and upstream
 * calls per query, and the peak RSS of the skygraph process. Per query it also splits the wall
 * time (undici's diagnostics channels): upstream = request sent until the last body byte, summed
 * over the calls (mostly the EC2 server rendering pages); skygraph = the rest (parse, map, GraphQL).
 *   npx tsx bench/ec2-list.ts
 */
import { subscribe } from 'node:diagnostics_channel';
import { validateConfig } from '../src/config/index.ts';
import { createLogger } from '../src/logger.ts';
import { buildApp } from '../src/server.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Child } from './ec2-child.ts';

const INSTANCES = 10_000;
const RUNS = 5;
const QUERY = '{ nodes(filter: { accounts: ["aws"] }, first: 1000) { totalCount edges { node { id name state image { name } size { name price } } } } }';

await main();

async function main(): Promise<void> {
  const child = await startEc2Child(INSTANCES);
  try {
    const endpoint = child.url;
    const config = await validateConfig(
      // why: cacheTtlMs 0: each run measures a full listing, not the result cache (bench/ec2-paging.ts measures that)
      { accounts: [{ id: 'aws', driver: 'ec2', region: 'us-east-1', endpoint, cacheTtlMs: 0, credentials: { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET } }] },
      '<bench>',
    );
    const app = await buildApp(config, { logger: createLogger('silent') });
    const url = await app.start(0, '127.0.0.1');
    const baseline = process.memoryUsage().rss;
    let sampledPeak = baseline;
    const peak = { heapUsed: 0, heapTotal: 0, external: 0 };
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      sampledPeak = Math.max(sampledPeak, usage.rss);
      for (const k of ['heapUsed', 'heapTotal', 'external'] as const) peak[k] = Math.max(peak[k], usage[k]);
    }, 10);

    const started = new WeakMap<object, number>();
    let upstreamMs = 0;
    const ec2Origin = new URL(endpoint).origin;
    subscribe('undici:request:create', (msg) => {
      const { request } = msg as { request: { origin?: unknown } };
      // why: the bench's own fetch to skygraph goes through (Node's) undici too
      if (String(request.origin) === ec2Origin) started.set(request, performance.now());
    });
    subscribe('undici:request:trailers', (msg) => {
      const at = started.get((msg as { request: object }).request);
      if (at !== undefined) upstreamMs += performance.now() - at;
    });

    console.log(`ec2: ${INSTANCES} instances in pages of 1000, ${RUNS} runs of: ${QUERY}`);
    for (let run = 1; run <= RUNS; run++) {
      const callsBefore = app.runtime.upstreamCalls.sum({ account: 'aws' });
      const byOp = (op: string) => app.runtime.upstreamCalls.get({ account: 'aws', operation: op });
      const [listBefore, imagesBefore] = [byOp('DescribeInstances'), byOp('DescribeImages')];
      upstreamMs = 0;
      const began = performance.now();
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      const text = await res.text();
      const ms = performance.now() - began;
      const upstream = upstreamMs;
      const json = JSON.parse(text) as { data?: { nodes: { totalCount: number; edges: { node: { image: unknown; size: { price: number } | null } }[] } }; errors?: unknown[] };
      if (json.errors || !json.data) throw new Error(`query failed: ${text.slice(0, 500)}`);
      const { totalCount, edges } = json.data.nodes;
      if (totalCount !== INSTANCES || edges.length !== 1000) throw new Error(`expected ${INSTANCES} nodes and 1000 edges, got ${totalCount} and ${edges.length}`);
      if (!edges.every((e) => e.node.image && e.node.size?.price)) throw new Error('a node lacks its image or size');
      console.log(
        `run ${run}: ${ms.toFixed(0)} ms (upstream ${upstream.toFixed(0)} ms, skygraph ${(ms - upstream).toFixed(0)} ms), upstream calls ${app.runtime.upstreamCalls.sum({ account: 'aws' }) - callsBefore} ` +
          `(DescribeInstances ${byOp('DescribeInstances') - listBefore}, DescribeImages ${byOp('DescribeImages') - imagesBefore}), response ${(text.length / 1024).toFixed(0)} KiB`,
      );
    }
    clearInterval(sampler);
    await app.stop();
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    console.log(
      `skygraph process RSS: before queries ${mib(baseline)}, peak sampled ${mib(sampledPeak)}, peak (getrusage maxRSS) ${mib(process.resourceUsage().maxRSS * 1024)}; ` +
        `peak sampled heapUsed ${mib(peak.heapUsed)}, heapTotal ${mib(peak.heapTotal)}, external ${mib(peak.external)}`,
    );
  } finally {
    await child.stop();
  }
}
