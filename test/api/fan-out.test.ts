import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe('api: fan-out, partial failure and batching', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      accounts: [
        { id: 'big', driver: 'sandbox', options: { nodes: 50 } },
        { id: 'healthy', driver: 'sandbox' },
        { id: 'throttled', driver: 'sandbox', options: { fail: 'RATE_LIMITED' } },
        { id: 'slow', driver: 'sandbox', options: { latencyMs: 2000 }, timeoutMs: 200 },
      ],
    });
  });
  afterAll(() => t.stop());

  it('answers from the healthy accounts and reports the failing ones in failures and top-level errors', async () => {
    const r = await t.gql<{ nodes: { totalCount: number; edges: { node: { id: string } }[]; failures: { account: string; code: string; provider: string; retryable: boolean }[] } }>(
      '{ nodes(filter: { accounts: ["healthy", "throttled", "slow"] }) { totalCount edges { node { id } } failures { account provider region code message retryable } } }',
    );
    expect(r.data!.nodes.edges.length).toBeGreaterThan(0);
    const failures = Object.fromEntries(r.data!.nodes.failures.map((f) => [f.account, f]));
    expect(failures.throttled).toMatchObject({ code: 'RATE_LIMITED', provider: 'sandbox', retryable: true });
    expect(failures.slow).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(failures.healthy).toBeUndefined();
    const top = r.errors!.map((e) => [e.extensions?.account, e.extensions?.code]);
    expect(top).toEqual(expect.arrayContaining([['throttled', 'RATE_LIMITED'], ['slow', 'TIMEOUT']]));
    expect(r.errors).toHaveLength(2);
  });

  it('makes one upstream call per (account, operation) for 50 nodes with image, size and location', async () => {
    const before = {
      listNodes: t.calls('big', 'listNodes'),
      getImages: t.calls('big', 'getImages'),
      listSizes: t.calls('big', 'listSizes'),
      listLocations: t.calls('big', 'listLocations'),
      all: t.calls('big'),
    };
    const r = await t.gql<{ nodes: { edges: { node: { image: { id: string } | null; size: { id: string } | null; location: { id: string } | null } }[] } }>(
      '{ nodes(filter: { accounts: ["big"] }, first: 1000) { edges { node { id image { id name } size { id name price } location { id name } } } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.nodes.edges).toHaveLength(50);
    expect(r.data!.nodes.edges.every((e) => e.node.image && e.node.size && e.node.location)).toBe(true);
    expect(t.calls('big', 'listNodes') - before.listNodes).toBe(1);
    expect(t.calls('big', 'getImages') - before.getImages).toBe(1);
    expect(t.calls('big', 'listSizes') - before.listSizes).toBe(1);
    expect(t.calls('big', 'listLocations') - before.listLocations).toBe(1);
    expect(t.calls('big') - before.all).toBe(4);
  });

  it('exposes the upstream call counter and request latency histogram at /metrics', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/^skygraph_upstream_calls_total\{account="big",operation="listNodes"\} \d+$/m);
    expect(text).toMatch(/^skygraph_request_duration_seconds_bucket\{route="graphql",le="0\.1"\} \d+$/m);
    expect(text).toContain('# TYPE skygraph_request_duration_seconds histogram');
    // no subscriptions are open in this file
    expect(text).toContain('# TYPE skygraph_live_subscribers gauge\nskygraph_live_subscribers 0\n');
    expect(text).toMatch(/^skygraph_live_pollers 0$/m);
    expect(text).toMatch(/^skygraph_live_leases_held 0$/m);
    const health = await (await fetch(`${t.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', accounts: 4 });
  });
});
