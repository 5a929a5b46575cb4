/**
 * Load isolation through the real server: a deadline aborts what it waits for upstream (the
 * request, a retry backoff, a poll), a listing shared through the result cache survives the
 * deadline of the caller that started it, and an account's connection slots (maxConcurrency)
 * keep a hanging upstream to itself. The EC2 recorded server stands upstream, behind a gate that
 * holds requests and counts what is open (test/helpers/gate-server.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Server, type Ec2Server } from '../helpers/ec2-server/index.ts';
import { startGate, type Gate } from '../helpers/gate-server.ts';
import { startTestApp, until, type TestApp } from '../helpers/app.ts';
import { collect, wsClient } from '../helpers/ws-client.ts';

const credentials = { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET };

interface ListAnswer {
  nodes: { totalCount: number; failures: { account: string; code: string }[] };
}

const listOf = (account: string) => `{ nodes(filter: { accounts: ["${account}"] }) { totalCount failures { account code } } }`;

describe('isolation: deadlines and connection slots', () => {
  let ec2: Ec2Server;
  const gates: Record<string, Gate> = {};
  let t: TestApp;
  /** retry backoffs the connection layer started, resolved by the test */
  const backoffs: (() => void)[] = [];

  beforeAll(async () => {
    ec2 = await startEc2Server();
    for (const name of ['slow', 'retrying', 'shared', 'busy', 'other', 'polled']) gates[name] = await startGate(ec2.url);
    const account = (id: string, extra: Record<string, unknown>) => ({ id, driver: 'ec2', regions: ['us-east-1'], endpoint: gates[id]!.url, credentials, ...extra });
    t = await startTestApp(
      {
        accounts: [
          account('slow', { timeoutMs: 400, cacheTtlMs: 0 }),
          account('retrying', { timeoutMs: 400, cacheTtlMs: 0 }),
          account('shared', { timeoutMs: 800, cacheTtlMs: 60_000 }),
          account('busy', { timeoutMs: 1500, cacheTtlMs: 0, maxConcurrency: 2 }),
          account('other', { cacheTtlMs: 0 }),
          account('polled', { timeoutMs: 300, cacheTtlMs: 0, pollIntervalMs: 250 }),
        ],
      },
      { http: { sleep: () => new Promise<void>((resolve) => void backoffs.push(resolve)) } },
    );
  });
  afterAll(async () => {
    await t?.stop();
    await Promise.all(Object.values(gates).map((g) => g.close()));
    await ec2?.close();
  });

  const slots = async (account: string) => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const read = (state: string) => Number(new RegExp(`^skygraph_upstream_slots\\{account="${account}",state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    return { inUse: read('in_use'), queued: read('queued') };
  };

  it('aborts the upstream request at the deadline: 20 hanging queries time out, none stays open, and the next query goes through at once', async () => {
    const gate = gates.slow!;
    gate.mode = 'hang';
    // two waves of 10, within the default maxConcurrency (16): every query's own request is held
    const answers = [];
    for (let wave = 0; wave < 2; wave++) answers.push(...(await Promise.all(Array.from({ length: 10 }, () => t.gql<ListAnswer>(listOf('slow'))))));
    for (const a of answers) expect(a.data?.nodes.failures).toEqual([{ account: 'slow', code: 'TIMEOUT' }]);
    expect(gate.requests).toBe(20);
    // why: an aborted request closes its socket; the gate sees each close shortly after the answer
    expect(await until(async () => gate.open, (n) => n === 0, 2000)).toBe(0);
    expect(await slots('slow')).toEqual({ inUse: 0, queued: 0 });

    gate.mode = 'pass';
    const before = { gate: gate.requests, upstream: ec2.requests.length };
    const ok = await t.gql<ListAnswer>(listOf('slow'));
    expect(ok.data?.nodes.failures).toEqual([]);
    expect(ok.data?.nodes.totalCount).toBeGreaterThan(0);
    // one request, answered: none of the aborted ones was retried or left waiting, nothing is open
    expect(gate.requests - before.gate).toBe(1);
    expect(ec2.requests.length - before.upstream).toBe(1);
    expect(gate.open).toBe(0);
  });

  it('ends a retry backoff at the deadline: no attempt is sent after it', async () => {
    const gate = gates.retrying!;
    gate.mode = 'unavailable';
    backoffs.length = 0;
    const answer = await t.gql<ListAnswer>(listOf('retrying'));
    expect(answer.data?.nodes.failures).toEqual([{ account: 'retrying', code: 'TIMEOUT' }]);
    expect(gate.requests).toBe(1);
    expect(backoffs).toHaveLength(1);
    // the backoff "ends" after the deadline; an attempt still alive would now be sent
    for (const resolve of backoffs) resolve();
    expect(await until(async () => gate.requests, (n) => n > 1, 300)).toBe(1);
    expect(t.calls('retrying', 'DescribeInstances')).toBe(1);
    gate.mode = 'pass';
  });

  it('keeps a listing shared through the result cache alive for a caller that joined it when its starter times out', async () => {
    const gate = gates.shared!;
    gate.hangNext(1);
    const first = t.gql<ListAnswer>(listOf('shared'));
    await until(async () => gate.open, (n) => n === 1);
    // why: the second caller starts well within the first one's deadline, so it has time left when that fires
    await new Promise((r) => setTimeout(r, 300));
    const second = t.gql<ListAnswer>(listOf('shared'));
    await new Promise((r) => setTimeout(r, 100));
    // it joined the listing in flight rather than asking on its own
    expect(t.calls('shared', 'DescribeInstances')).toBe(1);
    const [a, b] = await Promise.all([first, second]);
    expect(a.data?.nodes.failures).toEqual([{ account: 'shared', code: 'TIMEOUT' }]);
    expect(b.data?.nodes.failures).toEqual([]);
    expect(b.data?.nodes.totalCount).toBeGreaterThan(0);
    // the aborted listing and the one the joiner asked for when it was aborted
    expect(gate.requests).toBe(2);
    expect(await until(async () => gate.open, (n) => n === 0)).toBe(0);
    // and the second listing is the one cached for everyone
    const third = await t.gql<ListAnswer>(listOf('shared'));
    expect(third.data?.nodes.failures).toEqual([]);
    expect(gate.requests).toBe(2);
  });

  it('holds an account to maxConcurrency requests upstream; the rest wait for a slot while other accounts answer', async () => {
    const busy = gates.busy!;
    busy.mode = 'hang';
    const queries = Array.from({ length: 10 }, () => t.gql<ListAnswer>(listOf('busy')));
    await until(async () => (await slots('busy')).queued, (n) => n === 8);
    expect(await slots('busy')).toEqual({ inUse: 2, queued: 8 });
    expect(busy.open).toBe(2);

    const other = await t.gql<ListAnswer>(listOf('other'));
    expect(other.data?.nodes.failures).toEqual([]);
    expect(other.data?.nodes.totalCount).toBeGreaterThan(0);
    // busy's queries are all still waiting: the other account did not wait behind them
    expect(busy.open).toBe(2);
    expect(await slots('busy')).toEqual({ inUse: 2, queued: 8 });

    // the upstream recovers: the queue drains two at a time, within the deadline
    busy.mode = 'pass';
    for (const a of await Promise.all(queries)) expect(a.data?.nodes.failures).toEqual([]);
    expect(busy.requests).toBe(10);
    expect(busy.maxOpen).toBe(2);
    expect(busy.open).toBe(0);
    expect(await slots('busy')).toEqual({ inUse: 0, queued: 0 });
  });

  it('gives live polls the account deadline: a hanging upstream fails the poll (health says TIMEOUT) and its request is aborted', async () => {
    const gate = gates.polled!;
    gate.mode = 'hang';
    const client = wsClient(t.url);
    const sub = collect(client, 'subscription { nodeChanged(filter: { accounts: ["polled"] }) { kind } }');
    try {
      const health = await until(
        () => t.gql<{ account: { health: { status: string; lastError: { code: string } | null } } }>('{ account(id: "polled") { health { status lastError { code } } } }'),
        (r) => r.data?.account.health.lastError?.code === 'TIMEOUT',
      );
      expect(health.data?.account.health).toEqual({ status: 'FAILING', lastError: { code: 'TIMEOUT' } });
      expect(gate.requests).toBeGreaterThan(0);
      expect(await until(async () => gate.open, (n) => n === 0)).toBe(0);
    } finally {
      sub.stop();
      await client.dispose();
      gate.mode = 'pass';
    }
  });
});

describe('isolation: no amplification (per-request loaders keyed by operation and arguments)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // why: cacheTtlMs 0, so what is shared is shared by the request's own loaders, not by the result cache
    t = await startTestApp({
      accounts: [
        { id: 'one', driver: 'sandbox', options: { nodes: 1000 }, cacheTtlMs: 0 },
        { id: 'two', driver: 'sandbox', options: { nodes: 40 }, cacheTtlMs: 0 },
      ],
    });
  });
  afterAll(() => t.stop());

  /** upstream calls per operation during `run`, over both accounts */
  const counting = async <T>(run: () => Promise<T>) => {
    const ops = ['listNodes', 'getNodes', 'listImages', 'getImages', 'listSizes', 'listLocations'];
    const before = Object.fromEntries(ops.map((op) => [op, t.calls('one', op) + t.calls('two', op)]));
    const result = await run();
    const calls = Object.fromEntries(ops.map((op) => [op, t.calls('one', op) + t.calls('two', op) - before[op]!]).filter(([, n]) => n !== 0));
    return { result, calls };
  };

  it('lists once per account for the same listing asked under many aliases and through several paths', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `n${i}: nodes(first: 5) { totalCount }`).join(' ');
    const { result, calls } = await counting(() =>
      t.gql(`{ ${aliases} running: nodes(filter: { states: [RUNNING] }) { totalCount } accounts { id nodes { totalCount } } }`),
    );
    expect(result.errors).toBeUndefined();
    // one listNodes per account, whatever asked for it
    expect(calls).toEqual({ listNodes: 2 });
  });

  it('answers node(id) from the listing the same request made, without another call', async () => {
    const listed = await t.gql<{ nodes: { edges: { node: { id: string } }[] } }>('{ nodes(filter: { accounts: ["two"] }, first: 3) { edges { node { id } } } }');
    const ids = listed.data!.nodes.edges.map((e) => e.node.id);
    const lookups = ids.map((id, i) => `x${i}: node(id: "${id}") { name }`).join(' ');
    const { result, calls } = await counting(() => t.gql(`{ ${lookups} nodes(filter: { accounts: ["two"] }) { totalCount } }`));
    expect(result.errors).toBeUndefined();
    expect(calls).toEqual({ listNodes: 1 });
  });

  it('looks up the images, sizes and locations of a page of 1,000 nodes in one call each, though the page is completed in chunks', async () => {
    const { result, calls } = await counting(() =>
      t.gql<{ nodes: { edges: { node: { image: { id: string } | null } }[] } }>(
        '{ nodes(filter: { accounts: ["one"] }, first: 1000) { edges { node { id image { name } size { name } location { name } } } } }',
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.nodes.edges).toHaveLength(1000);
    expect(result.data!.nodes.edges.every((e) => e.node.image)).toBe(true);
    expect(calls).toEqual({ listNodes: 1, getImages: 1, listSizes: 1, listLocations: 1 });
  });

  it('lists images once per distinct filter: the same arguments share a call, different ones do not', async () => {
    const { result, calls } = await counting(() =>
      t.gql(
        '{ a: images(filter: { name: "ubuntu" }) { totalCount } b: images(filter: { name: "ubuntu" }) { totalCount } ' +
          'accounts { images(filter: { name: "ubuntu" }) { totalCount } } c: images(filter: { name: "debian" }) { totalCount } }',
      ),
    );
    expect(result.errors).toBeUndefined();
    // (ubuntu, debian) x (one, two)
    expect(calls).toEqual({ listImages: 4 });
  });
});

describe('isolation: a heavy query does not stall other clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      accounts: [
        ...['big-1', 'big-2', 'big-3'].map((id) => ({ id, driver: 'sandbox', options: { nodes: 10_000 }, cacheTtlMs: 0 })),
        { id: 'small', driver: 'sandbox' },
      ],
      server: { limits: { rateLimit: false } },
    });
  });
  afterAll(() => t.stop());

  it('answers /healthz and a small query while a page of 1,000 nodes out of 30,000 is being built', async () => {
    const order: string[] = [];
    const listed = () => ['big-1', 'big-2', 'big-3'].reduce((n, id) => n + t.calls(id, 'listNodes'), 0);
    const before = listed();
    const heavy = t
      .gql<{ nodes: { totalCount: number; edges: unknown[] } }>(
        '{ nodes(first: 1000, orderBy: { field: NAME }) { totalCount edges { cursor node { id name state publicIps tags { key value } size { name price } image { name } location { name } } } } }',
      )
      .then((r) => {
        order.push('heavy');
        return r;
      });
    // the heavy query is under way once its accounts were asked
    await until(async () => listed(), (n) => n === before + 3);
    const health = fetch(`${t.url}/healthz`)
      .then((r) => r.json())
      .then((h) => {
        order.push('healthz');
        return h;
      });
    const small = t.gql<{ nodes: { totalCount: number } }>('{ nodes(filter: { accounts: ["small"] }) { totalCount } }').then((r) => {
      order.push('small');
      return r;
    });
    const [h, s, big] = await Promise.all([health, small, heavy]);
    expect(h).toMatchObject({ status: 'ok' });
    expect(s.data?.nodes.totalCount).toBe(4);
    expect(big.data?.nodes.totalCount).toBe(30_004);
    expect(big.data?.nodes.edges).toHaveLength(1000);
    // both were answered while the heavy one was still being built
    expect(order.indexOf('heavy')).toBe(2);
  });
});

describe('isolation: the cost limit bounds the distinct listings of one request', () => {
  let t: TestApp;
  const accounts = ['a1', 'a2', 'a3', 'a4', 'a5'];
  beforeAll(async () => {
    // why: aliases raised so that the cost limit (default 250,000, 500 per listing) is the bound under test
    t = await startTestApp({
      accounts: accounts.map((id) => ({ id, driver: 'sandbox', cacheTtlMs: 0 })),
      server: { limits: { aliases: 300, rateLimit: false } },
    });
  });
  afterAll(() => t.stop());

  const listImages = () => accounts.reduce((n, id) => n + t.calls(id, 'listImages'), 0);
  const distinct = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `i${i}: images(filter: { name: "image-${i}" }) { totalCount }`).join(' ')} }`;

  it('refuses, before any call, a query whose distinct arguments would make more listings than the cost allows', async () => {
    const before = listImages();
    // 101 filters x 5 accounts = 505 listings, 252,500 > 250,000
    const r = await t.gql(distinct(101));
    expect(r.data ?? null).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors?.[0]?.message).toContain('505 upstream listings');
    expect(r.errors?.[0]?.message).toContain('server.limits.cost');
    expect(listImages()).toBe(before);
  });

  it('lets one through within the bound, and makes exactly the listings it was priced at', async () => {
    const before = listImages();
    const r = await t.gql(distinct(40));
    expect(r.errors).toBeUndefined();
    expect(listImages() - before).toBe(200);
  });

  it('prices the same arguments under many aliases as one listing per account', async () => {
    const before = listImages();
    const same = `{ ${Array.from({ length: 120 }, (_, i) => `i${i}: images(filter: { name: "ubuntu" }) { totalCount }`).join(' ')} }`;
    const r = await t.gql(same);
    expect(r.errors).toBeUndefined();
    expect(listImages() - before).toBe(5);
  });
});
