/**
 * One shared poller per (account, region, kind) on a replica. Every tick it takes or renews the
 * lease; only the holder lists, diffs against its snapshot, saves the snapshot (fenced by the
 * lease) and publishes the changes. Failures back off without touching the snapshot.
 */
import { RateLimitedError, TimeoutError, toSkygraphError, type SkygraphError } from '../providers/errors.ts';
import type { Logger } from '../providers/types.ts';
import { applyMutation, baseline, decodeSnapshot, diff, encodeSnapshot, type Snapshot } from './snapshot.ts';
import type { LeaseStore, LiveEvent, LiveKind, Lister, PubSub } from './types.ts';

export interface PollerDeps {
  accountId: string;
  region: string | null;
  kind: LiveKind;
  /** lease/snapshot key */
  key: string;
  channel: string;
  replicaId: string;
  list: Lister;
  leases: LeaseStore;
  pubsub: PubSub;
  /** the account's interval, already clamped */
  intervalMs(): number;
  /** the interval to use now (boosted or not), already clamped */
  tickMs(): number;
  /** how long a resource a mutation reported may stay unlisted before it counts as DELETED */
  graceMs: number;
  timestamp(): string;
  onPoll(ok: true, err?: undefined): void;
  onPoll(ok: false, err: SkygraphError): void;
  logger?: Logger | undefined;
}

export interface Poller {
  start(): void;
  /** stops ticking; releases the lease unless `release` is false */
  stop(release: boolean): Promise<void>;
  /** a mutation event for this (account, region, kind), from any replica */
  applyMutation(event: LiveEvent): void;
  /** re-arms the timer when the tick interval just got shorter (boost) */
  poke(): void;
  readonly holding: boolean;
}

const MAX_BACKOFF_FACTOR = 8;

export function createPoller(d: PollerDeps): Poller {
  let stopped = false;
  let holding = false;
  let snapshot: Snapshot | null = null;
  let failures = 0;
  let nextPollAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = 0;
  let ticking = false;

  const leaseTtl = () => 2 * d.intervalMs();
  // why: long enough to survive a takeover after the longest backoff
  const snapshotTtl = () => Math.max(60_000, 4 * MAX_BACKOFF_FACTOR * d.intervalMs());

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timerDueAt = Date.now() + delayMs;
    timer = setTimeout(() => void tick(), delayMs);
    timer.unref();
  }

  async function tick(): Promise<void> {
    timer = undefined;
    if (stopped || ticking) return;
    ticking = true;
    try {
      await leaseStep();
      if (!stopped && holding && Date.now() >= nextPollAt) await poll();
    } catch (err) {
      // why: lease store trouble (Redis down): stay quiet about resources, try again next tick
      d.logger?.warn('live: lease step failed', { key: d.key, message: (err as Error).message });
    } finally {
      ticking = false;
      const tickMs = d.tickMs();
      const untilPoll = nextPollAt - Date.now();
      schedule(holding && untilPoll > 0 ? Math.min(tickMs, untilPoll) : tickMs);
    }
  }

  async function leaseStep(): Promise<void> {
    if (holding) {
      holding = await d.leases.renew(d.key, d.replicaId, leaseTtl());
      if (!holding) snapshot = null;
      return;
    }
    const got = await d.leases.acquire(d.key, d.replicaId, leaseTtl());
    if (stopped) {
      if (got) await d.leases.release(d.key, d.replicaId);
      return;
    }
    if (!got) return;
    const stored = decodeSnapshot(await d.leases.loadSnapshot(d.key));
    holding = true;
    snapshot = stored;
    nextPollAt = 0;
  }

  async function poll(): Promise<void> {
    const pollStartedAt = Date.now();
    let listed;
    try {
      listed = await withTimeout(d.list(d.accountId, d.region, d.kind), Math.max(30_000, 10 * d.intervalMs()));
    } catch (err) {
      if (stopped) return;
      failures++;
      const e = toSkygraphError(err);
      const backoff = Math.min(d.intervalMs() * 2 ** failures, MAX_BACKOFF_FACTOR * d.intervalMs());
      const retryAfter = e instanceof RateLimitedError ? (e.retryAfterMs ?? 0) : 0;
      nextPollAt = Date.now() + Math.max(backoff, retryAfter);
      d.onPoll(false, e);
      return;
    }
    if (stopped || !holding) return;
    failures = 0;
    nextPollAt = 0;
    d.onPoll(true);
    let changes: ReturnType<typeof diff>['changes'] = [];
    if (snapshot === null) {
      snapshot = baseline(listed);
    } else {
      const result = diff(snapshot, listed, { pollStartedAt, now: Date.now(), graceMs: d.graceMs });
      snapshot = result.next;
      changes = result.changes;
    }
    // why: publish only what a current holder saw; a replica that lost its lease stays silent
    if (!(await save())) return;
    for (const c of changes) {
      if (stopped) return;
      const event: LiveEvent = {
        ...c,
        resource: d.kind,
        accountId: d.accountId,
        region: d.region,
        timestamp: d.timestamp(),
        source: 'poll',
      };
      await d.pubsub.publish(d.channel, event);
    }
  }

  async function save(): Promise<boolean> {
    if (snapshot === null) return false;
    const saved = await d.leases.saveSnapshot(d.key, d.replicaId, encodeSnapshot(snapshot), snapshotTtl());
    if (!saved && !stopped) {
      holding = false;
      snapshot = null;
    }
    return saved;
  }

  return {
    start() {
      schedule(0);
    },
    async stop(release) {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      const held = holding;
      holding = false;
      if (held && release) await d.leases.release(d.key, d.replicaId);
    },
    applyMutation(event) {
      if (!holding || snapshot === null || stopped) return;
      applyMutation(snapshot, event, Date.now());
      save().catch((err: Error) => d.logger?.warn('live: snapshot save failed', { key: d.key, message: err.message }));
    },
    poke() {
      if (stopped || ticking || timer === undefined) return;
      const wanted = Date.now() + d.tickMs();
      if (wanted < timerDueAt) schedule(d.tickMs());
    },
    get holding() {
      return holding;
    },
  };
}

// --- Internal helpers ---

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`[live] listing took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
