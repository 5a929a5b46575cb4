/**
 * The live-state engine's contract: events, the pubsub and lease stores it runs on, and the hub
 * the GraphQL subscription fields call. No GraphQL here.
 */
import type { HealthBook } from './health.ts';
import type { Logger } from '../providers/types.ts';

/** Resource kinds the engine polls. */
export type LiveKind = 'node' | 'loadBalancer';
export const LIVE_KINDS: readonly LiveKind[] = ['node', 'loadBalancer'];

export type EventKind = 'CREATED' | 'UPDATED' | 'DELETED';

/** One change to one resource, as delivered to subscribers on every replica. */
export interface LiveEvent<T = unknown> {
  kind: EventKind;
  resource: LiveKind;
  accountId: string;
  /** null for providers without regions */
  region: string | null;
  /** native id */
  id: string;
  /** the object as it is now; for DELETED the last one seen. Shared by all subscribers: read only. */
  item: T;
  /** null for CREATED */
  previousState: string | null;
  /** null for DELETED */
  state: string | null;
  /** ISO 8601, when the change was detected or published */
  timestamp: string;
  /** 'poll' when a poller saw it, 'mutation' when skygraph made the change itself */
  source: 'poll' | 'mutation';
}

/** Fan-out of events by channel: in-process, or Redis between replicas. */
export interface PubSub {
  publish(channel: string, event: LiveEvent): Promise<void>;
  /** Resolves once the subscription is active (events published afterwards are delivered); returns its unsubscribe. */
  subscribe(channel: string, onEvent: (e: LiveEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Leases decide which replica polls a resource key; the holder's last snapshot lives next to its
 * lease so whoever takes over diffs against it instead of reporting everything as new.
 * `key` is a resource name (`<account>:<region>:<kind>`); the Redis store prefixes it.
 */
export interface LeaseStore {
  /** Takes the lease for ttlMs when it is free or already held by `holder`. */
  acquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease only while `holder` still holds it. */
  renew(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Drops the lease if `holder` holds it; a no-op otherwise. */
  release(key: string, holder: string): Promise<void>;
  /** The last snapshot saved for `key`, or null when none (or expired). */
  loadSnapshot(key: string): Promise<string | null>;
  /** Saves a snapshot only while `holder` holds the lease (fencing); false when it does not. */
  saveSnapshot(key: string, holder: string, snapshot: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** One resource as a poll sees it. */
export interface ListedResource {
  /** native id */
  id: string;
  state: string;
  item: unknown;
  /**
   * Anything else whose change should count as UPDATED (for balancers: the member list).
   * When absent only `state` is compared.
   */
  fingerprint?: string | undefined;
}

/** The engine's only upstream input: one full listing of one (account, region, kind). */
export type Lister = (accountId: string, region: string | null, kind: LiveKind) => Promise<ListedResource[]>;

/** What this replica knows about an account from the calls it made to it. */
export interface AccountHealth {
  /** UNKNOWN until the first call; FAILING while any source's latest call failed */
  status: 'UNKNOWN' | 'OK' | 'FAILING';
  /** not FAILING */
  ok: boolean;
  /** the largest count of consecutive failed calls over the account's sources on this replica */
  consecutiveFailures: number;
  /** the latest error while failing; null once healthy again */
  lastError: { code: string; message: string } | null;
  /** ISO 8601 */
  lastSuccessAt: string | null;
  /** ISO 8601 */
  lastFailureAt: string | null;
}

export interface LiveHubOptions {
  pubsub: PubSub;
  leases: LeaseStore;
  /** unique per process; the lease holder name */
  replicaId: string;
  list: Lister;
  /** which regions to poll for an account and kind; [] polls nothing (mutations still flow) */
  targets(accountId: string, kind: LiveKind): Array<{ region: string | null }>;
  /** the account's `pollIntervalMs`; clamped to >= 250, default 5000 when not finite */
  intervalMs(accountId: string): number;
  /** polling interval right after a mutation on the account; default 1000, >= 250 */
  boostIntervalMs?: number;
  /** how long the boost lasts; default 30000 */
  boostForMs?: number;
  /** clock for event timestamps and health times (scheduling uses the real clock) */
  now?: () => Date;
  /** called when an account's health changes: on every failed poll and the first success after */
  onHealth?: (accountId: string, health: AccountHealth) => void;
  /** where poll outcomes are recorded; shared with request calls when given (src/services.ts) */
  healthBook?: HealthBook;
  /** events a slow subscriber may have queued before it is ended with an error; default 10000 */
  maxQueuedEvents?: number;
  logger?: Logger;
}

/** Which events a subscriber receives. */
export interface LiveFilter {
  kind: LiveKind;
  /** non-empty */
  accounts: string[];
  /** native ids; all when absent or empty */
  ids?: string[] | undefined;
  /**
   * Matches an event whose new state OR previous state is listed, so a subscriber watching
   * `running` also sees a node leave it (running -> stopping) and a running node's DELETED.
   */
  states?: string[] | undefined;
  /** a further test of each event (for example, the node's tags), after ids and states */
  match?: ((event: LiveEvent) => boolean) | undefined;
}

/** An event stream; `return()` or the abort signal unsubscribes. */
export interface LiveSubscription extends AsyncIterableIterator<LiveEvent> {
  /** resolves once the pubsub channels are subscribed (useful before publishing in tests) */
  ready: Promise<void>;
}

export interface LiveHubStats {
  /** (account, region, kind) pollers running on this replica */
  pollers: number;
  /** open subscriptions */
  subscribers: number;
  /** pubsub channel subscriptions this hub holds, one per (account, kind) in use */
  listeners: number;
  /** pollers currently holding their lease, i.e. actually polling */
  leasesHeld: number;
}

export interface LiveHub {
  /**
   * Events matching the filter. The first subscription for an (account, region, kind) on this
   * replica starts its poller; returning/breaking the iterator or aborting `signal` unsubscribes;
   * the last subscriber leaving stops the poller (releasing its lease) and the channel listener.
   */
  subscribe(filter: LiveFilter, signal?: AbortSignal): LiveSubscription;
  /**
   * skygraph's own mutations: publishes at once (source 'mutation'), updates the holder's
   * snapshot so the next poll does not report it again, and boosts polling for the account.
   */
  publishMutation(event: Omit<LiveEvent, 'timestamp' | 'source'>): Promise<void>;
  health(accountId: string): AccountHealth;
  stats(): LiveHubStats;
  /**
   * Stops every poller, ends every subscription and closes the stores. `release: false` keeps
   * the leases (tests use it to simulate a replica that died).
   */
  close(opts?: { release?: boolean }): Promise<void>;
}

export const DEFAULT_POLL_INTERVAL_MS = 5000;
export const MIN_POLL_INTERVAL_MS = 250;
