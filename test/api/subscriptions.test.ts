import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, until, type TestApp } from '../helpers/app.ts';
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

const CREATE = 'mutation($name: String!) { createNode(input: { account: "live", name: $name, size: "small", image: "ubuntu-24.04" }) { node { id state } } }';

async function refs() {
  const r = await t.gql<{ account: { sizes: { nodes: { nativeId: string }[] }; images: { nodes: { nativeId: string }[] } } }>(
    '{ account(id: "live") { sizes { nodes { nativeId } } images(first: 1) { nodes { nativeId } } } }',
  );
  return { size: r.data!.account.sizes.nodes[0]!.nativeId, image: r.data!.account.images.nodes[0]!.nativeId };
}

/** A subscription over Server-Sent Events, collected like the graphql-ws ones. */
function sseCollect<T>(query: string, variables: Record<string, unknown>) {
  const controller = new AbortController();
  const events: T[] = [];
  const done = (async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let buffer = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buffer += new TextDecoder().decode(value);
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (block.startsWith('event: next') && data) events.push((JSON.parse(data.slice(6)) as { data: T }).data);
      }
    }
  })().catch(() => undefined);
  return {
    events,
    async waitFor(n: number, ms = 10_000): Promise<T[]> {
      const deadline = Date.now() + ms;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${n} SSE events after ${ms} ms: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return events;
    },
    stop() {
      controller.abort();
      void done;
    },
  };
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
    const sub = collect<NodeEventData>(client, 'subscription { nodeChanged(filter: { accounts: ["live"] }) { kind source previousState state node { id name size { name } } } }');
    await subscribed(1);
    const { size, image } = await refs();
    const created = await t.gql<{ createNode: { node: { id: string } } }>(CREATE.replace('"small"', `"${size}"`).replace('"ubuntu-24.04"', `"${image}"`), { name: 'watched' });
    expect(created.errors).toBeUndefined();
    const [first] = await sub.waitFor(1);
    expect(first!.nodeChanged).toMatchObject({ kind: 'CREATED', source: 'MUTATION', previousState: null, state: 'PENDING', node: { name: 'watched' } });
    expect(first!.nodeChanged.node.size?.name).toBeTruthy();
    const events = await sub.waitFor(2);
    expect(events[1]!.nodeChanged).toMatchObject({ kind: 'UPDATED', source: 'POLL', previousState: 'PENDING', state: 'RUNNING', node: { id: created.data!.createNode.node.id } });
    sub.stop();
    await client.dispose();
  });

  it('filters node events by tags, on the node as the event carries it', async () => {
    const client = wsClient(t.url);
    const sub = collect<{ nodeChanged: { kind: string; node: { name: string; tags: { key: string; value: string }[] } } }>(
      client,
      'subscription { nodeChanged(filter: { accounts: ["live"], tags: [{ key: "env", value: "prod" }] }) { kind node { name tags { key value } } } }',
    );
    await subscribed(1);
    const { size, image } = await refs();
    const create = (name: string, env: string) =>
      t.gql('mutation($i: CreateNodeInput!) { createNode(input: $i) { node { id } } }', { i: { account: 'live', name, size, image, tags: [{ key: 'env', value: env }] } });
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
      body: JSON.stringify({ query: 'subscription { nodeChanged(filter: { accounts: ["live"] }) { kind node { name } } }' }),
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
    const subs = clients.flatMap((c) => Array.from({ length: 50 }, () => collect(c, 'subscription { nodeChanged(filter: { accounts: ["crowd"] }) { kind } }')));
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

  it('shows every balancer event with its members as they are then, from mutations and polls, over graphql-ws and SSE', async () => {
    const lbs = await t.gql<{ loadBalancers: { edges: { node: { id: string; nativeId: string } }[] } }>(
      '{ loadBalancers(filter: { accounts: ["live"] }) { edges { node { id nativeId } } } }',
    );
    const lb = lbs.data!.loadBalancers.edges[0]!.node;
    const query = 'subscription($ids: [ID!]) { loadBalancerChanged(filter: { ids: $ids }) { kind source loadBalancer { id members { nodes { ip port } } } } }';
    type Event = { loadBalancerChanged: { kind: string; source: string; loadBalancer: { members: { nodes: { ip: string; port: number }[] } } } };
    const client = wsClient(t.url);
    const ws = collect<Event>(client, query, { ids: [lb.id] });
    const sse = sseCollect<Event>(query, { ids: [lb.id] });
    await subscribed(2);
    const ips = (e: Event) => e.loadBalancerChanged.loadBalancer.members.nodes.map((m) => `${m.ip}:${m.port}`).sort();

    const attached = await t.gql<{ attachMember: { member: { id: string } } }>(
      'mutation($b: ID!) { attachMember(input: { loadBalancer: $b, ip: "10.9.9.9", port: 8080 }) { member { id } } }',
      { b: lb.id },
    );
    expect(attached.errors).toBeUndefined();
    const second = await t.gql('mutation($b: ID!) { attachMember(input: { loadBalancer: $b, ip: "10.9.9.10", port: 8080 }) { member { id } } }', { b: lb.id });
    expect(second.errors).toBeUndefined();
    await t.gql('mutation($m: ID!) { detachMember(input: { member: $m }) { detachedMemberId } }', { m: attached.data!.attachMember.member.id });
    // a change made behind skygraph's back reaches subscribers through the poller, once a poll
    // has adopted the state the mutations left (their events carry no poll fingerprint)
    const polls = t.calls('live', 'listBalancers');
    await until(async () => t.calls('live', 'listBalancers'), (n) => n >= polls + 2);
    await t.app.runtime.account('live').loadBalancer(null).attachMember(lb.nativeId, { ip: '10.9.9.11', port: 8080 });

    for (const events of [await ws.waitFor(4), await sse.waitFor(4)]) {
      expect(events.map((e) => [e.loadBalancerChanged.kind, e.loadBalancerChanged.source])).toEqual([
        ['UPDATED', 'MUTATION'],
        ['UPDATED', 'MUTATION'],
        ['UPDATED', 'MUTATION'],
        ['UPDATED', 'POLL'],
      ]);
      const [a, b, c, d] = events.map(ips);
      expect(a).toContain('10.9.9.9:8080');
      expect(b).toEqual(expect.arrayContaining(['10.9.9.9:8080', '10.9.9.10:8080']));
      expect(c).toContain('10.9.9.10:8080');
      expect(c).not.toContain('10.9.9.9:8080');
      expect(d).toEqual(expect.arrayContaining(['10.9.9.10:8080', '10.9.9.11:8080']));
    }
    const now = await t.gql<{ loadBalancer: { members: { nodes: { ip: string; port: number }[] } } }>(
      'query($id: ID!) { loadBalancer(id: $id) { members { nodes { ip port } } } }',
      { id: lb.id },
    );
    const last = (await ws.waitFor(4))[3]!;
    expect(now.data!.loadBalancer.members.nodes.map((m) => `${m.ip}:${m.port}`).sort()).toEqual(ips(last));
    ws.stop();
    sse.stop();
    await client.dispose();
  });

  it('reports account health from polls and queries alike', async () => {
    const r = await t.gql<{ account: { health: { status: string; ok: boolean; consecutiveFailures: number } } }>(
      '{ account(id: "live") { health { status ok consecutiveFailures lastError { code } lastSuccessAt } } }',
    );
    expect(r.data!.account.health).toMatchObject({ status: 'OK', ok: true, consecutiveFailures: 0 });
  });
});
