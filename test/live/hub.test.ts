import { afterEach, describe, expect, it } from 'vitest';
import { createLiveHub } from '../../src/live/hub.ts';
import { localLeases } from '../../src/live/leases-local.ts';
import { inProcessPubSub } from '../../src/live/pubsub-memory.ts';
import type { LiveHub, LiveHubOptions } from '../../src/live/types.ts';
import { collect, createWorld, gaps, node, sleep, summary, waitFor } from './support.ts';

const INTERVAL = 250;
const FIXED_NOW = new Date('2025-01-02T03:04:05.000Z');
let hubs: LiveHub[] = [];

afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
});

function setup(over: Partial<LiveHubOptions> = {}) {
  const world = createWorld();
  const pubsub = inProcessPubSub();
  const leases = localLeases();
  const hub = createLiveHub({
    pubsub,
    leases,
    replicaId: 'r1',
    list: world.lister(),
    targets: () => [{ region: 'eu-1' }],
    intervalMs: () => INTERVAL,
    now: () => FIXED_NOW,
    ...over,
  });
  hubs.push(hub);
  return { world, pubsub, leases, hub };
}

describe('live: hub in one process', () => {
  it('takes a silent baseline, then reports CREATED, UPDATED and DELETED', async () => {
    const { world, hub } = setup();
    world.set('acc', 'eu-1', 'node', node('a', 'running'));
    world.set('acc', 'eu-1', 'node', node('b', 'running'));
    const { events } = collect(hub.subscribe({ kind: 'node', accounts: ['acc'] }));
    await waitFor('baseline and two more polls', () => world.calls.length >= 3);
    expect(events).toEqual([]);

    world.set('acc', 'eu-1', 'node', node('b', 'stopping'));
    world.remove('acc', 'eu-1', 'node', 'a');
    world.set('acc', 'eu-1', 'node', node('c', 'pending'));
    await waitFor('three events', () => events.length >= 3);
    const seen = world.calls.length;
    await waitFor('three more polls', () => world.calls.length >= seen + 3);

    expect(summary(events)).toEqual([
      'UPDATED b running->stopping poll',
      'CREATED c null->pending poll',
      'DELETED a running->null poll',
    ]);
    expect(events[2]).toMatchObject({
      resource: 'node',
      accountId: 'acc',
      region: 'eu-1',
      id: 'a',
      item: { id: 'a', state: 'running' },
      timestamp: FIXED_NOW.toISOString(),
    });
    expect(world.calls.every((c) => c.accountId === 'acc' && c.region === 'eu-1' && c.kind === 'node')).toBe(true);
  });

  it('serves 500 subscribers on one account with one list call per interval', async () => {
    const { world, hub, pubsub } = setup();
    world.set('acc', 'eu-1', 'node', node('a', 'running'));
    const subs = Array.from({ length: 500 }, () => collect(hub.subscribe({ kind: 'node', accounts: ['acc'] })));
    expect(hub.stats()).toMatchObject({ pollers: 1, subscribers: 500 });
    await waitFor('six polls', () => world.calls.length >= 6);
    world.set('acc', 'eu-1', 'node', node('a', 'stopped'));
    await waitFor('every subscriber has the change', () => subs.every((s) => s.events.length === 1));
    const seen = world.calls.length;
    await waitFor('three more polls', () => world.calls.length >= seen + 3);

    // why: "one call per interval" = no two calls closer than an interval (timers may fire ~1 ms early)
    for (const gap of gaps(world.calls)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 15);
    expect(subs.every((s) => s.events.length === 1 && s.events[0]?.state === 'stopped')).toBe(true);
    expect(hub.stats()).toEqual({ pollers: 1, subscribers: 500, listeners: 1, leasesHeld: 1 });
    expect(pubsub.listenerCount()).toBe(1);
  });

  it('runs one poller per (account, region, kind) shared by overlapping subscribers', async () => {
    const { world, hub } = setup({ targets: (acc) => (acc === 'multi' ? [{ region: 'r1' }, { region: 'r2' }] : [{ region: null }]) });
    hub.subscribe({ kind: 'node', accounts: ['multi', 'flat'] });
    hub.subscribe({ kind: 'node', accounts: ['multi'] });
    hub.subscribe({ kind: 'loadBalancer', accounts: ['flat', 'flat'] });
    expect(hub.stats()).toMatchObject({ pollers: 4, subscribers: 3 });
    await waitFor('every poller listed', () => new Set(world.calls.map((c) => `${c.accountId}|${c.region}|${c.kind}`)).size === 4);
    await waitFor('all channels active', () => hub.stats().listeners === 3);
    expect(hub.stats().leasesHeld).toBe(4);
  });

  it('leaves no poller or listener behind when the last subscriber returns, breaks or aborts', async () => {
    const { world, hub, pubsub } = setup();
    world.set('acc', 'eu-1', 'node', node('a', 'running'));
    const first = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const abort = new AbortController();
    const second = hub.subscribe({ kind: 'node', accounts: ['acc'], ids: ['a'] }, abort.signal);
    const third = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    await third.ready;
    await waitFor('baseline', () => world.calls.length >= 1);

    // mid-stream: a pending next() is resolved as done when the subscriber returns
    const pending = first.next();
    await first.return?.();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(hub.stats()).toMatchObject({ pollers: 1, subscribers: 2, listeners: 1 });

    abort.abort();
    await expect(second.next()).resolves.toMatchObject({ done: true });

    world.set('acc', 'eu-1', 'node', node('a', 'stopped'));
    for await (const event of third) {
      expect(event.state).toBe('stopped');
      break;
    }
    await waitFor('listener released', () => pubsub.listenerCount() === 0);
    expect(hub.stats()).toEqual({ pollers: 0, subscribers: 0, listeners: 0, leasesHeld: 0 });
    const after = world.calls.length;
    await sleep(INTERVAL * 3);
    expect(world.calls.length).toBe(after);
  });

  it('filters by ids and by states (new or previous state) at the subscriber', async () => {
    const { world, hub } = setup();
    for (const id of ['a', 'b', 'c']) world.set('acc', 'eu-1', 'node', node(id, id === 'c' ? 'pending' : 'running'));
    const byId = collect(hub.subscribe({ kind: 'node', accounts: ['acc'], ids: ['a'] }));
    const byState = collect(hub.subscribe({ kind: 'node', accounts: ['acc'], states: ['running'] }));
    const all = collect(hub.subscribe({ kind: 'node', accounts: ['acc'] }));
    await waitFor('baseline', () => world.calls.length >= 1);
    world.set('acc', 'eu-1', 'node', node('a', 'stopping'));
    world.set('acc', 'eu-1', 'node', node('c', 'stopped'));
    await waitFor('two events', () => all.events.length >= 2);
    world.remove('acc', 'eu-1', 'node', 'b');
    await waitFor('the deletion', () => all.events.length >= 3);
    const seen = world.calls.length;
    await waitFor('two more polls', () => world.calls.length >= seen + 2);

    expect(summary(byId.events)).toEqual(['UPDATED a running->stopping poll']);
    expect(summary(byState.events)).toEqual(['UPDATED a running->stopping poll', 'DELETED b running->null poll']);
    expect(all.events).toHaveLength(3);
  });

  it('rejects an empty account list and an unknown kind', () => {
    const { hub } = setup();
    expect(() => hub.subscribe({ kind: 'node', accounts: [] })).toThrow(/accounts must not be empty/);
    expect(() => hub.subscribe({ kind: 'volume' as 'node', accounts: ['a'] })).toThrow(/unknown kind/);
    expect(hub.stats()).toEqual({ pollers: 0, subscribers: 0, listeners: 0, leasesHeld: 0 });
  });

  it('close() ends every subscription and releases the leases', async () => {
    const { world, hub, leases } = setup();
    const { done } = collect(hub.subscribe({ kind: 'node', accounts: ['acc'] }));
    await waitFor('lease held', () => hub.stats().leasesHeld === 1 && world.calls.length >= 1);
    expect(await leases.acquire('acc:eu-1:node', 'other', 10_000)).toBe(false);
    await hub.close();
    await done;
    expect(await leases.acquire('acc:eu-1:node', 'other', 10_000)).toBe(true);
    expect(hub.stats()).toEqual({ pollers: 0, subscribers: 0, listeners: 0, leasesHeld: 0 });
    const late = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    await expect(late.next()).resolves.toMatchObject({ done: true });
  });

  it('ends a subscriber that falls too far behind with an error', async () => {
    const { world, hub } = setup({ maxQueuedEvents: 2 });
    const slow = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    await slow.ready;
    await waitFor('baseline', () => world.calls.length >= 1);
    for (const id of ['a', 'b', 'c']) world.set('acc', 'eu-1', 'node', node(id, 'running'));
    await waitFor('subscriber dropped', () => hub.stats().subscribers === 0);
    await expect(slow.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(slow.next()).resolves.toMatchObject({ done: true });
    expect(hub.stats().pollers).toBe(0);
  });
});
