/**
 * The live hub: subscribers in, shared pollers out. Channels are per (account, kind); pollers
 * per (account, region, kind), reference-counted by subscribers on this replica.
 */
import { InvalidInputError, ProviderError, SkygraphError } from '../providers/errors.ts';
import { createHealthBook } from './health.ts';
import { createPoller, type Poller } from './poller.ts';
import { createSubscriptionQueue, type SubscriptionQueue } from './subscription.ts';
import {
  DEFAULT_POLL_INTERVAL_MS,
  LIVE_KINDS,
  MIN_POLL_INTERVAL_MS,
  type LiveEvent,
  type LiveHub,
  type LiveHubOptions,
  type LiveKind,
} from './types.ts';

interface Subscriber {
  queue: SubscriptionQueue;
  kind: LiveKind;
  accounts: string[];
  ids: Set<string> | null;
  states: Set<string> | null;
  match: ((event: LiveEvent) => boolean) | null;
  pollerKeys: string[];
  /** removes the abort listener */
  detach: () => void;
}

interface Channel {
  subscribers: Set<Subscriber>;
  /** resolves to the pubsub unsubscribe, or null when subscribing failed */
  unsubscribe: Promise<(() => Promise<void>) | null>;
  active: boolean;
}

interface PollerEntry {
  poller: Poller;
  refs: number;
  accountId: string;
  region: string | null;
  kind: LiveKind;
}

/**
 * Creates the hub. One per process; it owns (and closes) the stores it is given.
 *
 * ```ts
 * const hub = createLiveHub({
 *   ...(url ? { pubsub: redisPubSub(url), leases: redisLeases(url) } : { pubsub: inProcessPubSub(), leases: localLeases() }),
 *   replicaId: `${hostname()}:${process.pid}:${randomUUID()}`,
 *   list: async (accountId, region, kind) => kind === 'node'
 *     ? (await compute(accountId, region).listNodes()).map(nodeResource)
 *     : await balancersWithMembers(accountId, region), // balancerResource(lb, members) each
 *   targets: (accountId) => regionsOf(accountId).map((region) => ({ region })),
 *   intervalMs: (accountId) => account(accountId).pollIntervalMs,
 * });
 * for await (const e of hub.subscribe({ kind: 'node', accounts: ['aws-prod'] }, signal)) { ... }
 * ```
 */
export function createLiveHub(opts: LiveHubOptions): LiveHub {
  const now = opts.now ?? (() => new Date());
  const boostIntervalMs = clampInterval(opts.boostIntervalMs ?? 1000);
  const boostForMs = Math.max(0, opts.boostForMs ?? 30_000);
  const maxQueued = Math.max(1, opts.maxQueuedEvents ?? 10_000);
  const channels = new Map<string, Channel>();
  const pollers = new Map<string, PollerEntry>();
  const subscribers = new Set<Subscriber>();
  const boostedUntil = new Map<string, number>();
  const healthBook = opts.healthBook ?? createHealthBook(now, opts.onHealth);
  let closed = false;

  const intervalOf = (accountId: string) => clampInterval(opts.intervalMs(accountId));

  function tickMs(accountId: string): number {
    const base = intervalOf(accountId);
    return (boostedUntil.get(accountId) ?? 0) > Date.now() ? Math.min(base, boostIntervalMs) : base;
  }

  function boost(accountId: string): void {
    if (boostForMs === 0) return;
    boostedUntil.set(accountId, Date.now() + boostForMs);
    for (const entry of pollers.values()) if (entry.accountId === accountId) entry.poller.poke();
  }

  function onChannelEvent(channel: Channel, event: LiveEvent): void {
    if (event.source === 'mutation') {
      boost(event.accountId);
      pollers.get(pollerKey(event.accountId, event.region, event.resource))?.poller.applyMutation(event);
    }
    for (const sub of channel.subscribers) {
      if (sub.ids && !sub.ids.has(event.id)) continue;
      if (sub.states && !matchesState(sub.states, event)) continue;
      if (sub.match && !sub.match(event)) continue;
      sub.queue.push(event);
    }
  }

  function joinChannel(name: string, sub: Subscriber): Promise<void> {
    const existing = channels.get(name);
    if (existing) {
      existing.subscribers.add(sub);
      return existing.unsubscribe.then(() => undefined);
    }
    const channel: Channel = { subscribers: new Set([sub]), unsubscribe: Promise.resolve(null), active: false };
    channel.unsubscribe = opts.pubsub.subscribe(name, (e) => onChannelEvent(channel, e)).then(
      (unsubscribe) => {
        channel.active = true;
        return unsubscribe;
      },
      (err: Error) => {
        opts.logger?.error('live: channel subscribe failed', { channel: name, message: err.message });
        if (channels.get(name) === channel) channels.delete(name);
        const failure = new SkygraphError('UNAVAILABLE', `[live] could not subscribe to events: ${err.message}`);
        for (const sub of [...channel.subscribers]) sub.queue.fail(failure);
        return null;
      },
    );
    channels.set(name, channel);
    return channel.unsubscribe.then(() => undefined);
  }

  function leaveChannel(name: string, sub: Subscriber): Promise<void> {
    const channel = channels.get(name);
    if (!channel) return Promise.resolve();
    channel.subscribers.delete(sub);
    if (channel.subscribers.size > 0) return Promise.resolve();
    channels.delete(name);
    return channel.unsubscribe.then(async (unsubscribe) => {
      channel.active = false;
      await unsubscribe?.();
    });
  }

  function acquirePoller(accountId: string, region: string | null, kind: LiveKind): string {
    const key = pollerKey(accountId, region, kind);
    const entry = pollers.get(key);
    if (entry) {
      entry.refs++;
      return key;
    }
    const poller = createPoller({
      accountId,
      region,
      kind,
      key,
      channel: channelName(accountId, kind),
      replicaId: opts.replicaId,
      list: opts.list,
      leases: opts.leases,
      pubsub: opts.pubsub,
      intervalMs: () => intervalOf(accountId),
      tickMs: () => tickMs(accountId),
      graceMs: Math.max(boostForMs, 4 * intervalOf(accountId)),
      timestamp: () => now().toISOString(),
      onPoll: (ok: boolean, err?: SkygraphError) => healthBook.record(accountId, `poll:${key}`, ok ? null : (err ?? new ProviderError('poll failed'))),
      logger: opts.logger,
    });
    pollers.set(key, { poller, refs: 1, accountId, region, kind });
    poller.start();
    return key;
  }

  function releasePoller(key: string): Promise<void> {
    const entry = pollers.get(key);
    if (!entry || --entry.refs > 0) return Promise.resolve();
    pollers.delete(key);
    return entry.poller.stop(true);
  }

  function unsubscribe(sub: Subscriber): void {
    if (!subscribers.delete(sub)) return;
    const work: Promise<void>[] = [];
    for (const key of sub.pollerKeys) work.push(releasePoller(key));
    for (const accountId of sub.accounts) work.push(leaveChannel(channelName(accountId, sub.kind), sub));
    Promise.all(work).catch((err: Error) => opts.logger?.warn('live: unsubscribe cleanup failed', { message: err.message }));
  }

  return {
    subscribe(filter, signal) {
      if (!LIVE_KINDS.includes(filter.kind)) throw new InvalidInputError(`[live] unknown kind ${String(filter.kind)}`, { field: 'kind' });
      const accounts = [...new Set(filter.accounts)];
      if (accounts.length === 0) throw new InvalidInputError('[live] accounts must not be empty', { field: 'accounts' });
      let readyResolve: () => void = () => {};
      const ready = new Promise<void>((resolve) => (readyResolve = resolve));
      const sub: Subscriber = {
        kind: filter.kind,
        accounts,
        ids: filter.ids?.length ? new Set(filter.ids) : null,
        states: filter.states?.length ? new Set(filter.states) : null,
        match: filter.match ?? null,
        pollerKeys: [],
        detach: () => {},
        queue: createSubscriptionQueue({
          maxQueued,
          ready,
          onClose: () => {
            sub.detach();
            unsubscribe(sub);
          },
        }),
      };
      if (closed || signal?.aborted) {
        sub.queue.end();
        readyResolve();
        return sub.queue.subscription;
      }
      // why: ask for every target before registering anything, so a throwing targets() leaks nothing
      const polled = accounts.flatMap((accountId) => opts.targets(accountId, filter.kind).map(({ region }) => ({ accountId, region })));
      subscribers.add(sub);
      const joined = accounts.map((accountId) => joinChannel(channelName(accountId, filter.kind), sub));
      void Promise.all(joined).then(readyResolve);
      for (const { accountId, region } of polled) sub.pollerKeys.push(acquirePoller(accountId, region, filter.kind));
      if (signal) {
        const onAbort = () => void sub.queue.subscription.return?.();
        signal.addEventListener('abort', onAbort, { once: true });
        sub.detach = () => signal.removeEventListener('abort', onAbort);
      }
      return sub.queue.subscription;
    },

    async publishMutation(partial) {
      if (closed) return;
      const event: LiveEvent = { ...partial, timestamp: now().toISOString(), source: 'mutation' };
      boost(event.accountId);
      await opts.pubsub.publish(channelName(event.accountId, event.resource), event);
    },

    health: (accountId) => healthBook.get(accountId),

    stats() {
      let listeners = 0;
      for (const c of channels.values()) if (c.active) listeners++;
      let leasesHeld = 0;
      for (const p of pollers.values()) if (p.poller.holding) leasesHeld++;
      return { pollers: pollers.size, subscribers: subscribers.size, listeners, leasesHeld };
    },

    async close(closeOpts = {}) {
      if (closed) return;
      closed = true;
      const release = closeOpts.release ?? true;
      for (const sub of [...subscribers]) {
        subscribers.delete(sub);
        sub.detach();
        sub.queue.end();
      }
      const stops = [...pollers.values()].map((p) => p.poller.stop(release).catch(() => undefined));
      pollers.clear();
      const leaves = [...channels.values()].map((c) => c.unsubscribe.then((u) => u?.()).catch(() => undefined));
      channels.clear();
      await Promise.all([...stops, ...leaves]);
      await Promise.all([opts.pubsub.close(), opts.leases.close()]);
    },
  };
}

/** `<account>:<region|->:<kind>`: the lease and snapshot key of one poller. */
export function pollerKey(accountId: string, region: string | null, kind: LiveKind): string {
  return `${accountId}:${region ?? '-'}:${kind}`;
}

/** The pubsub channel of one (account, kind). */
export function channelName(accountId: string, kind: LiveKind): string {
  return `skygraph:live:${accountId}:${kind}`;
}

// --- Internal helpers ---

function clampInterval(ms: number): number {
  if (!Number.isFinite(ms)) return DEFAULT_POLL_INTERVAL_MS;
  return Math.max(MIN_POLL_INTERVAL_MS, ms);
}

function matchesState(states: Set<string>, e: LiveEvent): boolean {
  return (e.state !== null && states.has(e.state)) || (e.previousState !== null && states.has(e.previousState));
}
