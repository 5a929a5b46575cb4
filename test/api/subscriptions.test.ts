import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { collect, wsClient } from '../helpers/ws-client.ts';

type NodeEventData = { nodeChanged: { kind: string; source: string; previousState: string | null; state: string | null; node: { id: string; name: string; size: { name: string } | null } } };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(
    {
      accounts: [
        { id: 'live', driver: 'sandbox', pollIntervalMs: 250, options: { transitionMs: 600, nodes: 2 } },
        { id: 'crowd', driver: 'sandbox', pollIntervalMs: 250, options: { nodes: 3 } },
      ],
    },
    { boostIntervalMs: 250 },
  );
});
afterAll(() => t.stop());

const CREATE = 'mutation($name: String!) { createNode(input: { account: "live", name: $name, size: "small", image: "ubuntu-24.04" }) { id state } }';

async function refs() {
  const r = await t.gql<{ sizes: { nativeId: string }[]; images: { edges: { node: { nativeId: string } }[] } }>(
    '{ sizes(account: "live") { nativeId } images(account: "live", first: 1) { edges { node { nativeId } } } }',
  );
  return { size: r.data!.sizes[0]!.nativeId, image: r.data!.images.edges[0]!.node.nativeId };
}

/** resolves once the server holds `n` live subscriptions */
async function subscribed(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (t.app.services.live.stats().subscribers < n) {
    if (Date.now() > deadline) throw new Error(`only ${t.app.services.live.stats().subscribers} of ${n} subscriptions after 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('api: subscriptions', () => {
  it('delivers a mutation at once and the poller-detected transition after it, over graphql-ws', async () => {
    const client = wsClient(t.url);
    const sub = collect<NodeEventData>(client, 'subscription { nodeChanged(accounts: ["live"]) { kind source previousState state node { id name size { name } } } }');
    await subscribed(1);
    const { size, image } = await refs();
    const created = await t.gql<{ createNode: { id: string } }>(CREATE.replace('"small"', `"${size}"`).replace('"ubuntu-24.04"', `"${image}"`), { name: 'watched' });
    expect(created.errors).toBeUndefined();
    const [first] = await sub.waitFor(1);
    expect(first!.nodeChanged).toMatchObject({ kind: 'CREATED', source: 'MUTATION', previousState: null, state: 'PENDING', node: { name: 'watched' } });
    expect(first!.nodeChanged.node.size?.name).toBeTruthy();
    const events = await sub.waitFor(2);
    expect(events[1]!.nodeChanged).toMatchObject({ kind: 'UPDATED', source: 'POLL', previousState: 'PENDING', state: 'RUNNING', node: { id: created.data!.createNode.id } });
    sub.stop();
    await client.dispose();
  });

  it('filters node events by tags, on the node as the event carries it', async () => {
    const client = wsClient(t.url);
    const sub = collect<{ nodeChanged: { kind: string; node: { name: string; tags: { key: string; value: string }[] } } }>(
      client,
      'subscription { nodeChanged(accounts: ["live"], tags: [{ key: "env", value: "prod" }]) { kind node { name tags { key value } } } }',
    );
    await subscribed(1);
    const { size, image } = await refs();
    const create = (name: string, env: string) =>
      t.gql('mutation($i: CreateNodeInput!) { createNode(input: $i) { id } }', { i: { account: 'live', name, size, image, tags: [{ key: 'env', value: env }] } });
    await create('tagged-dev', 'dev');
    await create('tagged-prod', 'prod');
    const [first] = await sub.waitFor(1);
    expect(first!.nodeChanged).toMatchObject({ kind: 'CREATED', node: { name: 'tagged-prod', tags: [{ key: 'env', value: 'prod' }] } });
    // the dev node's transition to running comes and goes without reaching this subscriber
    const events = await sub.waitFor(2);
    expect(events.map((e) => e.nodeChanged.node.name)).toEqual(['tagged-prod', 'tagged-prod']);
    sub.stop();
    await client.dispose();
  });

  it('streams over Server-Sent Events too', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { nodeChanged(accounts: ["live"]) { kind node { name } } }' }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const { size, image } = await refs();
    setTimeout(() => void t.gql(CREATE.replace('"small"', `"${size}"`).replace('"ubuntu-24.04"', `"${image}"`), { name: 'via-sse' }), 300);
    let text = '';
    while (!text.includes('via-sse')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/event: next\ndata: .*"kind":"CREATED".*"via-sse"/);
    controller.abort();
  });

  it('serves 500 subscribers with one upstream poll per interval, and stops polling when they leave', async () => {
    const clients = Array.from({ length: 10 }, () => wsClient(t.url));
    const subs = clients.flatMap((c) => Array.from({ length: 50 }, () => collect(c, 'subscription { nodeChanged(accounts: ["crowd"]) { kind } }')));
    expect(subs).toHaveLength(500);
    const live = t.app.services.live;
    const deadline = Date.now() + 10_000;
    while (live.stats().subscribers < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(live.stats()).toMatchObject({ subscribers: 500, pollers: 1 });
    const before = t.calls('crowd', 'listNodes');
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const polls = t.calls('crowd', 'listNodes') - before;
    const intervals = (Date.now() - started) / 250;
    // one poll per interval, however many subscribers (a timer tick may land on either side)
    expect(polls).toBeGreaterThanOrEqual(Math.floor(intervals) - 2);
    expect(polls).toBeLessThanOrEqual(Math.ceil(intervals) + 1);

    subs.forEach((s) => s.stop());
    await Promise.all(clients.map((c) => c.dispose()));
    while (live.stats().subscribers > 0 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
    expect(live.stats()).toEqual({ pollers: 0, subscribers: 0, listeners: 0, leasesHeld: 0 });
    const after = t.calls('crowd', 'listNodes');
    await new Promise((r) => setTimeout(r, 600));
    expect(t.calls('crowd', 'listNodes')).toBe(after);
  });

  it('reports member attach and detach as UPDATED balancer events with the new member list', async () => {
    const lbs = await t.gql<{ loadBalancers: { edges: { node: { id: string; members: { id: string }[] } }[] } }>(
      '{ loadBalancers(accounts: ["live"]) { edges { node { id members { id } } } } }',
    );
    const lb = lbs.data!.loadBalancers.edges[0]!.node;
    const client = wsClient(t.url);
    const sub = collect<{ loadBalancerChanged: { kind: string; members: { ip: string; port: number }[] } }>(
      client,
      'subscription($ids: [ID!]) { loadBalancerChanged(ids: $ids) { kind members { ip port } } }',
      { ids: [lb.id] },
    );
    await subscribed(1);
    const attached = await t.gql<{ attachMember: { id: string } }>('mutation($b: ID!) { attachMember(balancer: $b, ip: "10.9.9.9", port: 8080) { id } }', { b: lb.id });
    expect(attached.errors).toBeUndefined();
    const [e1] = await sub.waitFor(1);
    expect(e1!.loadBalancerChanged.kind).toBe('UPDATED');
    expect(e1!.loadBalancerChanged.members).toContainEqual({ ip: '10.9.9.9', port: 8080 });
    await t.gql('mutation($b: ID!, $m: ID!) { detachMember(balancer: $b, member: $m) }', { b: lb.id, m: attached.data!.attachMember.id });
    const events = await sub.waitFor(2);
    expect(events[1]!.loadBalancerChanged.members).not.toContainEqual({ ip: '10.9.9.9', port: 8080 });
    sub.stop();
    await client.dispose();
  });

  it('reports account polling health', async () => {
    const r = await t.gql<{ account: { health: { ok: boolean; consecutiveFailures: number } } }>('{ account(id: "live") { health { ok consecutiveFailures lastErrorCode lastSuccessAt } } }');
    expect(r.data!.account.health).toMatchObject({ ok: true, consecutiveFailures: 0 });
  });
});
