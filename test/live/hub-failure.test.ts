import { afterEach, describe, expect, it } from 'vitest';
import { createLiveHub } from '../../src/live/hub.ts';
import { localLeases } from '../../src/live/leases-local.ts';
import { inProcessPubSub } from '../../src/live/pubsub-memory.ts';
import type { AccountHealth, LiveHub, LiveHubOptions } from '../../src/live/types.ts';
import { ProviderError, RateLimitedError } from '../../src/providers/errors.ts';
import { collect, createWorld, gaps, node, sleep, summary, waitFor } from './support.ts';

const INTERVAL = 250;
let hubs: LiveHub[] = [];

afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
});

function setup(over: Partial<LiveHubOptions> = {}) {
  const world = createWorld();
  const healthLog: AccountHealth[] = [];
  const hub = createLiveHub({
    pubsub: inProcessPubSub(),
    leases: localLeases(),
    replicaId: 'r1',
    list: world.lister(),
    targets: () => [{ region: null }],
    intervalMs: () => INTERVAL,
    onHealth: (_acc, h) => healthLog.push(h),
    ...over,
  });
  hubs.push(hub);
  return { world, hub, healthLog };
}

describe('live: failures, mutations and boost', () => {
  it('backs off on failure without DELETED, reports health, and resets on recovery', async () => {
    const { world, hub, healthLog } = setup();
    world.set('acc', null, 'node', node('a', 'running'));
    world.set('acc', null, 'node', node('b', 'running'));
    const { events } = collect(hub.subscribe({ kind: 'node', accounts: ['acc'] }));
    await waitFor('baseline', () => world.calls.length >= 1);
    expect(hub.health('acc')).toMatchObject({ ok: true, consecutiveFailures: 0, lastError: null });
    expect(hub.health('acc').lastSuccessAt).not.toBeNull();

    world.failWith(new ProviderError('DescribeInstances 503 Unavailable', { provider: 'ec2', status: 503 }));
    const firstFailing = world.calls.length;
    await waitFor('four failed polls', () => world.calls.length >= firstFailing + 4, 15_000);
    const failing = world.calls.slice(firstFailing);
    // exponential: 2, 4, 8 intervals after the 1st, 2nd, 3rd failure (then capped at 8)
    const expected = [2 * INTERVAL, 4 * INTERVAL, 8 * INTERVAL];
    gaps(failing).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((expected[i] ?? 8 * INTERVAL) - 15));
    expect(events).toEqual([]);
    expect(hub.health('acc')).toMatchObject({
      ok: false,
      consecutiveFailures: 4,
      lastError: { code: 'PROVIDER_ERROR', message: '[ec2] DescribeInstances 503 Unavailable' },
    });
    expect(healthLog.map((h) => h.consecutiveFailures)).toEqual([1, 2, 3, 4]);

    // a change made while failing is reported once the account answers again
    world.remove('acc', null, 'node', 'b');
    world.failWith(null);
    await waitFor('recovery', () => hub.health('acc').ok, 15_000);
    await waitFor('the deletion', () => events.length >= 1);
    expect(healthLog.at(-1)).toMatchObject({ ok: true, consecutiveFailures: 0, lastError: null });
    expect(healthLog).toHaveLength(5);
    const recovered = world.calls.length;
    await waitFor('three more polls', () => world.calls.length >= recovered + 3);
    expect(summary(events)).toEqual(['DELETED b running->null poll']);
  });

  it('waits at least as long as a rate limit asks and maps plain errors to PROVIDER_ERROR', async () => {
    const { world, hub } = setup();
    hub.subscribe({ kind: 'node', accounts: ['acc'] });
    await waitFor('baseline', () => world.calls.length >= 1);
    world.failWith(new RateLimitedError('Throttling', { provider: 'ec2', retryAfterMs: 1500 }));
    const start = world.calls.length;
    await waitFor('a throttled poll', () => hub.health('acc').lastError?.code === 'RATE_LIMITED');
    world.failWith(new Error('socket hang up'));
    await waitFor('the next poll', () => world.calls.length >= start + 2);
    const [throttled, next] = world.calls.slice(start);
    expect(next!.at - throttled!.at).toBeGreaterThanOrEqual(1500 - 15);
    await waitFor('a plain error recorded', () => hub.health('acc').lastError?.code === 'PROVIDER_ERROR');
    expect(hub.health('acc')).toMatchObject({ ok: false, consecutiveFailures: 2, lastError: { message: 'socket hang up' } });
  });

  it('publishes a mutation at once, does not report it again, and boosts polling for a while', async () => {
    // a 5 s interval: without the boost there would be no second poll during this test's waits
    const { world, hub } = setup({ intervalMs: () => 5000, boostIntervalMs: 250, boostForMs: 1500 });
    world.set('acc', null, 'node', node('a', 'running'));
    const sub = hub.subscribe({ kind: 'node', accounts: ['acc'] });
    const { events } = collect(sub);
    await sub.ready;
    await waitFor('baseline', () => world.calls.length === 1 && hub.stats().leasesHeld === 1);
    await sleep(20);

    await hub.publishMutation({
      kind: 'UPDATED', resource: 'node', accountId: 'acc', region: null, id: 'a',
      item: { id: 'a', state: 'stopping' }, previousState: 'running', state: 'stopping',
    });
    await waitFor('the mutation event', () => events.length === 1);
    expect(world.calls).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'mutation', kind: 'UPDATED', state: 'stopping' });

    world.set('acc', null, 'node', node('a', 'stopping'));
    await waitFor('boosted polls', () => world.calls.length >= 4, 4000);
    for (const gap of gaps(world.calls.slice(1))) expect(gap).toBeGreaterThanOrEqual(250 - 15);
    expect(summary(events)).toEqual(['UPDATED a running->stopping mutation']);

    // after the boost the account is back to 5 s: no poll for the next second and a half
    await sleep(1500 + 300);
    const settled = world.calls.length;
    await sleep(1500);
    expect(world.calls.length).toBe(settled);

    world.set('acc', null, 'node', node('a', 'stopped'));
    await hub.publishMutation({
      kind: 'UPDATED', resource: 'node', accountId: 'acc', region: null, id: 'a',
      item: { id: 'a', state: 'stopped' }, previousState: 'stopping', state: 'stopped',
    });
    await waitFor('boosted again', () => world.calls.length >= settled + 2, 4000);
    expect(summary(events)).toEqual(['UPDATED a running->stopping mutation', 'UPDATED a stopping->stopped mutation']);
  });

  it('does not report a created-by-mutation node as DELETED while the listing lags, nor twice once listed', async () => {
    const { world, hub } = setup({ boostIntervalMs: 250, boostForMs: 5000 });
    const { events } = collect(hub.subscribe({ kind: 'node', accounts: ['acc'] }));
    await waitFor('baseline', () => world.calls.length >= 1 && hub.stats().leasesHeld === 1);
    await hub.publishMutation({
      kind: 'CREATED', resource: 'node', accountId: 'acc', region: null, id: 'new',
      item: { id: 'new' }, previousState: null, state: 'pending',
    });
    const at = world.calls.length;
    await waitFor('two polls that do not list it yet', () => world.calls.length >= at + 2);
    world.set('acc', null, 'node', node('new', 'pending'));
    await waitFor('two polls that list it', () => world.calls.length >= at + 4);
    world.set('acc', null, 'node', node('new', 'running'));
    await waitFor('the state change', () => events.length >= 2);
    expect(summary(events)).toEqual(['CREATED new null->pending mutation', 'UPDATED new pending->running poll']);
  });
});
