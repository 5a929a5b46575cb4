/**
 * Pages through 10,000 EC2 instances 1,000 at a time (10 GraphQL queries following endCursor),
 * without the result cache (cacheTtlMs: 0, every page lists every instance again) and with it
 * (the default: one listing serves all ten pages). Prints upstream calls and wall time of each.
 *   npx tsx bench/ec2-paging.ts
 */
import { validateConfig } from '../src/config/index.ts';
import { createLogger } from '../src/logger.ts';
import { buildApp } from '../src/server.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Child } from './ec2-child.ts';

const INSTANCES = 10_000;
const PAGE = 'query($after: String) { nodes(filter: { accounts: ["aws"] }, first: 1000, after: $after) { edges { node { id name state } } pageInfo { hasNextPage endCursor } } }';

const child = await startEc2Child(INSTANCES);
try {
  const credentials = { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET };
  console.log(`ec2 paging: ${INSTANCES} instances, 10 GraphQL pages of 1000 (EC2 answers 1000 per DescribeInstances page)`);
  for (const [label, cacheTtlMs] of [['before (cacheTtlMs 0)', 0], ['after (cacheTtlMs 5000, the default)', 5000]] as const) {
    const config = await validateConfig({ accounts: [{ id: 'aws', driver: 'ec2', region: 'us-east-1', endpoint: child.url, cacheTtlMs, credentials }] }, '<bench>');
    const app = await buildApp(config, { logger: createLogger('silent') });
    const url = await app.start(0, '127.0.0.1');
    const began = performance.now();
    let after: string | null = null;
    let pages = 0;
    let seen = 0;
    for (;;) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE, variables: { after } }) });
      const json = (await res.json()) as { data?: { nodes: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }; errors?: unknown };
      if (!json.data) throw new Error(`query failed: ${JSON.stringify(json.errors)}`);
      pages++;
      seen += json.data.nodes.edges.length;
      if (!json.data.nodes.pageInfo.hasNextPage) break;
      after = json.data.nodes.pageInfo.endCursor;
    }
    const ms = performance.now() - began;
    if (seen !== INSTANCES) throw new Error(`saw ${seen} instances, expected ${INSTANCES}`);
    const calls = app.runtime.upstreamCalls.get({ account: 'aws', operation: 'DescribeInstances' });
    console.log(`${label}: ${pages} pages, ${seen} instances, DescribeInstances calls ${calls}, wall ${ms.toFixed(0)} ms (${(ms / pages).toFixed(0)} ms per page)`);
    await app.stop();
  }
} finally {
  await child.stop();
}
