import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { collect, wsClient } from '../helpers/ws-client.ts';

// why: a generous interval keeps the lease (2 intervals) stable on a loaded 2-core CI machine
const INTERVAL = 500;

async function metric(s: ServerProcess, series: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? 0);
}

const listNodeCalls = (s: ServerProcess) => metric(s, 'skygraph_upstream_calls_total{account="shared",operation="listNodes"}');

/** resolves once the replica has the subscription and listens on its Redis channel */
async function subscribed(s: ServerProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [subscribers, listeners] = await Promise.all([metric(s, 'skygraph_live_subscribers'), metric(s, 'skygraph_live_listeners')]);
    if (subscribers === 1 && listeners === 1) return;
    if (Date.now() > deadline) throw new Error(`replica not subscribed after 30 s: ${subscribers} subscribers, ${listeners} listeners`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('api: two replicas through Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    redis = await startRedis();
    const config = { pubsub: redis.url, accounts: [{ id: 'shared', driver: 'sandbox', pollIntervalMs: INTERVAL, options: { nodes: 3 } }] };
    [a, b] = await Promise.all([startServerProcess(config), startServerProcess(config)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('delivers an event to subscribers on both replicas, polls on one, and fails over when it dies', async () => {
    const ca = wsClient(a.url);
    const cb = wsClient(b.url);
    const query = 'subscription { nodeChanged(filter: { accounts: ["shared"] }) { kind source node { name } } }';
    const sa = collect<{ nodeChanged: { kind: string; node: { name: string } } }>(ca, query);
    const sb = collect<{ nodeChanged: { kind: string; node: { name: string } } }>(cb, query);
    // why: an event published before a replica listens on its channel is not for that subscriber
    await Promise.all([subscribed(a), subscribed(b)]);
    await new Promise((r) => setTimeout(r, 4 * INTERVAL));

    // one replica at a time holds the lease and polls: together they poll once per interval, not twice
    // (a stalled machine may hand the lease over; it is never held by both at once)
    const [a0, b0] = await Promise.all([listNodeCalls(a), listNodeCalls(b)]);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 8 * INTERVAL));
    const [a1, b1] = await Promise.all([listNodeCalls(a), listNodeCalls(b)]);
    const intervals = (Date.now() - started) / INTERVAL;
    const polledA = a1 - a0;
    const polledB = b1 - b0;
    expect(polledA + polledB).toBeGreaterThan(0);
    expect(polledA + polledB).toBeLessThanOrEqual(Math.ceil(intervals) + 2);

    // a change made on one replica reaches the subscribers of both
    const refs = await (await fetch(`${a.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sizes(filter: { accounts: ["shared"] }) { nodes { nativeId } } images(filter: { accounts: ["shared"] }, first: 1) { nodes { nativeId } } }' }),
    })).json() as { data: { sizes: { nodes: { nativeId: string }[] }; images: { nodes: { nativeId: string }[] } } };
    const create = await fetch(`${a.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($s: ID!, $i: ID!) { createNode(input: { account: "shared", name: "from-a", size: $s, image: $i }) { node { id } } }',
        variables: { s: refs.data.sizes.nodes[0]!.nativeId, i: refs.data.images.nodes[0]!.nativeId },
      }),
    });
    expect(create.status).toBe(200);
    expect(await create.json()).toMatchObject({ data: { createNode: { node: { id: expect.any(String) } } } });
    const logs = () => `\nreplica a stderr:\n${a.stderr()}\nreplica b stderr:\n${b.stderr()}`;
    const [[ea], [eb]] = await Promise.all([sa.waitFor(1), sb.waitFor(1)]).catch((err: Error) => {
      throw new Error(err.message + logs());
    });
    expect(ea!.nodeChanged).toMatchObject({ kind: 'CREATED', node: { name: 'from-a' } });
    expect(eb!.nodeChanged).toMatchObject({ kind: 'CREATED', node: { name: 'from-a' } });

    // the poller dies without releasing its lease; the other takes over within two intervals after the lease expires
    const [a2, b2] = await Promise.all([listNodeCalls(a), listNodeCalls(b)]);
    await new Promise((r) => setTimeout(r, 3 * INTERVAL));
    const [a3, b3] = await Promise.all([listNodeCalls(a), listNodeCalls(b)]);
    const [holder, other] = a3 - a2 >= b3 - b2 ? [a, b] : [b, a];
    holder.child.kill('SIGKILL');
    const before = await listNodeCalls(other);
    const deadline = Date.now() + 2 * INTERVAL /* lease ttl */ + 2 * INTERVAL + 2000;
    let took = false;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, INTERVAL / 2));
      if ((await listNodeCalls(other)) > before) {
        took = true;
        break;
      }
    }
    expect(took).toBe(true);
    sa.stop();
    sb.stop();
    await Promise.allSettled([ca.dispose(), cb.dispose()]);
  }, 60_000);
});
