import { Redis } from 'ioredis';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { channelName, createLiveHub } from '../../src/live/hub.ts';
import { redisLeases } from '../../src/live/leases-redis.ts';
import { redisPubSub } from '../../src/live/pubsub-redis.ts';
import type { LiveEvent, LiveHub } from '../../src/live/types.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { collect, createWorld, gaps, node, sleep, summary, waitFor, type ListCall } from './support.ts';

let redis: RedisHandle;
let admin: Redis;
let hubs: LiveHub[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
  await admin.flushall();
});

afterAll(async () => {
  await admin?.quit();
  await redis?.stop();
});

function replica(world: ReturnType<typeof createWorld>, replicaId: string, intervalMs: number) {
  const log: ListCall[] = [];
  const hub = createLiveHub({
    pubsub: redisPubSub(redis.url),
    leases: redisLeases(redis.url),
    replicaId,
    list: world.lister(log),
    targets: () => [{ region: 'eu-1' }],
    intervalMs: () => intervalMs,
    boostIntervalMs: intervalMs,
  });
  hubs.push(hub);
  return { hub, log };
}

const numsub = async (channel: string) => Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]);

describe('live: redis pubsub and leases', () => {
  it('passes events between two connections as JSON with createdAt as a Date, and unsubscribes', async () => {
    const a = redisPubSub(redis.url);
    const b = redisPubSub(redis.url);
    try {
      const got: LiveEvent[] = [];
      const unsubscribe = await b.subscribe('skygraph:live:acc:node', (e) => got.push(e));
      expect(await numsub('skygraph:live:acc:node')).toBe(1);
      const event: LiveEvent = {
        kind: 'CREATED', resource: 'node', accountId: 'acc', region: 'eu-1', id: 'a', previousState: null, state: 'running',
        item: node('a', 'running').item, timestamp: new Date().toISOString(), source: 'poll',
      };
      await a.publish('skygraph:live:acc:node', event);
      await waitFor('the event', () => got.length === 1);
      expect(got[0]).toEqual(event);
      expect((got[0]?.item as { createdAt: unknown }).createdAt).toBeInstanceOf(Date);

      // leaving and re-joining at once ends subscribed
      const again = b.subscribe('skygraph:live:acc:node', (e) => got.push(e));
      await unsubscribe();
      const unsubscribeAgain = await again;
      expect(await numsub('skygraph:live:acc:node')).toBe(1);
      await unsubscribeAgain();
      expect(await numsub('skygraph:live:acc:node')).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('subscribes only once its connection is ready, even when asked during the handshake', async () => {
    // why: ioredis writes SUBSCRIBE at once while it still handshakes (CLIENT SETNAME/SETINFO, then
    // INFO); a SUBSCRIBE answered before the INFO is sent puts the connection in subscriber mode,
    // the ready check fails and the connection drops. A proxy that holds Redis's first replies
    // keeps the handshake open long enough to ask for a channel in the middle of it.
    const proxy = await slowStartProxy(redis.port, 400);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string, f?: Record<string, unknown>) => void warnings.push(`${msg} ${JSON.stringify(f)}`) };
    const sub = redisPubSub(`redis://127.0.0.1:${proxy.port}`, { logger });
    const pub = redisPubSub(redis.url);
    try {
      await proxy.connected(2);
      const got: LiveEvent[] = [];
      await sub.subscribe('skygraph:live:hs:node', (e) => got.push(e));
      const event: LiveEvent = {
        kind: 'UPDATED', resource: 'node', accountId: 'hs', region: null, id: 'a', previousState: 'pending', state: 'running',
        item: node('a', 'running').item, timestamp: new Date().toISOString(), source: 'poll',
      };
      await pub.publish('skygraph:live:hs:node', event);
      await waitFor('the event', () => got.length === 1);
      expect(warnings).toEqual([]);
      expect(proxy.connections()).toBe(2);
    } finally {
      await Promise.all([sub.close(), pub.close()]);
      await proxy.close();
    }
  });

  it('grants a lease to one holder, renews and releases only for it, fences snapshots, and expires', async () => {
    const store = redisLeases(redis.url);
    try {
      expect(await store.acquire('acc:eu-1:node', 'r1', 300)).toBe(true);
      expect(await store.acquire('acc:eu-1:node', 'r2', 300)).toBe(false);
      expect(await store.acquire('acc:eu-1:node', 'r1', 300)).toBe(true);
      expect(await store.renew('acc:eu-1:node', 'r2', 300)).toBe(false);
      expect(await store.saveSnapshot('acc:eu-1:node', 'r2', 'theirs', 10_000)).toBe(false);
      expect(await store.saveSnapshot('acc:eu-1:node', 'r1', 'ours', 10_000)).toBe(true);
      expect(await store.loadSnapshot('acc:eu-1:node')).toBe('ours');
      expect(await admin.get('skygraph:lease:acc:eu-1:node')).toBe('r1');
      await store.release('acc:eu-1:node', 'r2');
      expect(await admin.get('skygraph:lease:acc:eu-1:node')).toBe('r1');
      await store.release('acc:eu-1:node', 'r1');
      expect(await admin.exists('skygraph:lease:acc:eu-1:node')).toBe(0);

      expect(await store.acquire('acc:eu-1:node', 'r1', 200)).toBe(true);
      expect(await store.renew('acc:eu-1:node', 'r1', 200)).toBe(true);
      await sleep(300);
      expect(await store.renew('acc:eu-1:node', 'r1', 200)).toBe(false);
      expect(await store.acquire('acc:eu-1:node', 'r2', 200)).toBe(true);
      expect(await store.loadSnapshot('acc:eu-1:node')).toBe('ours');
    } finally {
      await store.close();
    }
  });
});

describe('live: redis unreachable', () => {
  it('ends subscriptions with UNAVAILABLE and leaves nothing behind', async () => {
    const gone = await startRedis();
    await gone.stop();
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) };
    const world = createWorld();
    const hub = createLiveHub({
      pubsub: redisPubSub(gone.url, { logger }),
      leases: redisLeases(gone.url, { logger }),
      replicaId: 'r1',
      list: world.lister(),
      targets: () => [{ region: null }],
      intervalMs: () => 250,
      logger,
    });
    hubs.push(hub);
    const sub = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    await expect(sub.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await waitFor('cleanup', () => hub.stats().pollers === 0);
    expect(hub.stats()).toEqual({ pollers: 0, subscribers: 0, listeners: 0, leasesHeld: 0 });
    expect(world.calls).toHaveLength(0);
    expect(warnings).toContain('live: redis connection error');
    expect(warnings.join(' ')).not.toContain(gone.url);
  });
});

describe('live: two replicas through redis', () => {
  const INTERVAL = 250;

  it('polls on one replica only, delivers each change once to subscribers on both', async () => {
    const world = createWorld();
    world.set('acc', 'eu-1', 'node', node('a', 'running'));
    const one = replica(world, 'replica-1', INTERVAL);
    const two = replica(world, 'replica-2', INTERVAL);
    const s1 = one.hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const s2 = two.hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const [e1, e2] = [collect(s1), collect(s2)];
    await Promise.all([s1.ready, s2.ready]);
    await waitFor('five polls', () => world.calls.length >= 5);

    const [holder, other] = one.log.length > 0 ? [one, two] : [two, one];
    expect(other.log).toHaveLength(0);
    expect(holder.hub.stats().leasesHeld).toBe(1);
    expect(other.hub.stats()).toEqual({ pollers: 1, subscribers: 1, listeners: 1, leasesHeld: 0 });
    expect(await admin.get('skygraph:lease:acc:eu-1:node')).toMatch(/^replica-[12]$/);
    expect(await admin.pttl('skygraph:snapshot:acc:eu-1:node')).toBeGreaterThan(0);

    world.set('acc', 'eu-1', 'node', node('a', 'stopped'));
    await waitFor('both subscribers have it', () => e1.events.length >= 1 && e2.events.length >= 1);

    // a mutation made on the replica that does not poll is not reported again by the one that does
    await other.hub.publishMutation({
      kind: 'UPDATED', resource: 'node', accountId: 'acc', region: 'eu-1', id: 'a',
      item: { id: 'a', state: 'starting' }, previousState: 'stopped', state: 'starting',
    });
    world.set('acc', 'eu-1', 'node', node('a', 'starting'));
    await waitFor('both have the mutation', () => e1.events.length >= 2 && e2.events.length >= 2);
    const seen = world.calls.length;
    await waitFor('four more polls', () => world.calls.length >= seen + 4);

    for (const events of [e1.events, e2.events]) {
      expect(summary(events)).toEqual(['UPDATED a running->stopped poll', 'UPDATED a stopped->starting mutation']);
      expect((events[0]?.item as { createdAt: unknown }).createdAt).toBeInstanceOf(Date);
    }
    expect(other.log).toHaveLength(0);
    for (const gap of gaps(world.calls)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 15);
  });

  it('hands polling to the other replica when the holder dies, without spurious events', async () => {
    const interval = 500;
    const world = createWorld();
    world.set('acc', 'eu-1', 'node', node('a', 'running'));
    world.set('acc', 'eu-1', 'node', node('b', 'running'));
    const one = replica(world, 'replica-1', interval);
    const two = replica(world, 'replica-2', interval);
    const s1 = one.hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const s2 = two.hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const [e1, e2] = [collect(s1), collect(s2)];
    await Promise.all([s1.ready, s2.ready]);
    await waitFor('three polls', () => world.calls.length >= 3);
    const [holder, survivor, survivorEvents] = one.log.length > 0 ? [one, two, e2.events] : [two, one, e1.events];
    expect(survivor.log).toHaveLength(0);

    world.set('acc', 'eu-1', 'node', node('a', 'stopping'));
    await waitFor('the change before the crash', () => survivorEvents.length === 1);

    // the holder dies: its timers stop and its connections drop, its lease stays until the TTL
    const killedAt = Date.now();
    await holder.hub.close({ release: false });
    expect(await admin.get('skygraph:lease:acc:eu-1:node')).toBe(holder === one ? 'replica-1' : 'replica-2');
    // changes while nobody polls: the survivor finds them by diffing against the dead holder's snapshot
    world.remove('acc', 'eu-1', 'node', 'b');
    world.set('acc', 'eu-1', 'node', node('c', 'pending'));
    const leaseTtl = 2 * interval;
    await waitFor('the survivor polls', () => survivor.log.length >= 1, leaseTtl + 2 * interval + 1500);
    const takeoverMs = survivor.log[0]!.at - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(leaseTtl + 2 * interval + 1500);
    console.warn(`[live] takeover after ${takeoverMs} ms (interval ${interval} ms, lease TTL ${leaseTtl} ms)`);
    expect(survivor.hub.stats().leasesHeld).toBe(1);
    await waitFor('three polls by the survivor', () => survivor.log.length >= 3);
    expect(summary(survivorEvents)).toEqual([
      'UPDATED a running->stopping poll',
      'CREATED c null->pending poll',
      'DELETED b running->null poll',
    ]);

    world.set('acc', 'eu-1', 'node', node('c', 'running'));
    await waitFor('a change after the takeover', () => survivorEvents.length >= 4);
    const seen = survivor.log.length;
    await waitFor('two more polls', () => survivor.log.length >= seen + 2);
    expect(summary(survivorEvents).slice(3)).toEqual(['UPDATED c pending->running poll']);

    await survivor.hub.close();
    expect(await admin.exists('skygraph:lease:acc:eu-1:node')).toBe(0);
    expect(await numsub(channelName('acc', 'node'))).toBe(0);
  });
});

/**
 * A TCP proxy to Redis that passes what clients send at once but holds Redis's replies on each
 * connection for its first `holdMs`, then passes everything.
 */
async function slowStartProxy(redisPort: number, holdMs: number) {
  const sockets: Socket[] = [];
  let count = 0;
  const waiters: (() => void)[] = [];
  const server: Server = createServer((client) => {
    count++;
    waiters.forEach((w) => w());
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.push(client, upstream);
    const held: Buffer[] = [];
    let holding = true;
    setTimeout(() => {
      holding = false;
      for (const b of held) client.write(b);
    }, holdMs).unref();
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => (holding ? held.push(d) : client.write(d)));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    /** resolves once `n` clients connected, plus a moment for their first commands to go out */
    async connected(n: number) {
      while (count < n) await new Promise<void>((resolve) => waiters.push(resolve));
      await sleep(100);
    },
    async close() {
      sockets.forEach((sock) => sock.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
