/**
 * The result cache shared by every request: provider listings per (account, region, operation,
 * arguments), kept for the account's `cacheTtlMs`. Concurrent askers of the same listing share
 * one upstream call; a mutation on the account drops its entries (and any listing still in flight
 * from before it); a live poll stores what it just listed, so dashboards read what polls see.
 *
 * A shared listing runs under a deadline of its own (the loaders make it so), which began with
 * the asker that started it. An asker that joined later and still has time when that deadline
 * aborts the listing asks once more, rather than failing before its own deadline.
 */
import { callSignal } from '../providers/call-scope.ts';
import { TimeoutError } from '../providers/errors.ts';

/** The cache's view of an account: its id and how long its listings stay fresh. */
export interface CachePolicy {
  /** milliseconds; 0 turns the cache off for the account */
  ttlMs: number;
}

export interface ResultCache {
  /**
   * The fresh cached value, else `fetch()` shared with every concurrent asker of the same key.
   * Failures are not kept.
   */
  get<T>(account: string, region: string | null, operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
  /** always calls `fetch()` (a lookup that must be current) and stores what it answers for the others */
  refresh<T>(account: string, region: string | null, operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
  /**
   * Stores a listing made elsewhere (a live poll). With `since` (from generation() before the
   * listing started), a listing that an invalidation overtook is not stored.
   */
  put(account: string, region: string | null, operation: string, args: unknown, value: unknown, since?: number): void;
  /** the account's invalidation count, to pass to put() */
  generation(account: string): number;
  /** drops every entry of the account, and keeps listings in flight from being stored */
  invalidate(account: string): void;
  /** entries held, for /metrics */
  size(): number;
}

interface Entry {
  promise: Promise<unknown>;
  settled: boolean;
  value: unknown;
  /** Date.now() when the value arrived (or the fetch started, while in flight) */
  at: number;
}

/** Bound on the entries of one account; the oldest are dropped past it. */
const MAX_ENTRIES_PER_ACCOUNT = 512;

export function createResultCache(policy: (account: string) => CachePolicy | undefined, clock: () => number = Date.now): ResultCache {
  const accounts = new Map<string, { generation: number; entries: Map<string, Entry> }>();
  const bucket = (account: string) => {
    let b = accounts.get(account);
    if (!b) accounts.set(account, (b = { generation: 0, entries: new Map() }));
    return b;
  };
  const keyOf = (region: string | null, operation: string, args: unknown) => JSON.stringify([region, operation, args ?? null]);
  const ttl = (account: string) => policy(account)?.ttlMs ?? 0;
  const fresh = (account: string, e: Entry) => !e.settled || clock() - e.at < ttl(account);

  const store = (account: string, key: string, entry: Entry) => {
    const { entries } = bucket(account);
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > MAX_ENTRIES_PER_ACCOUNT) entries.delete(entries.keys().next().value!);
  };

  /** `entry`'s answer for an asker that joined it while in flight; `again` asks anew */
  const join = <T>(entry: Entry, again: () => Promise<T>): Promise<T> => {
    const signal = callSignal();
    return (entry.promise as Promise<T>).catch((err: unknown) => {
      if (err instanceof TimeoutError && signal && !signal.aborted) return again();
      throw err;
    });
  };

  const get = <T>(account: string, region: string | null, operation: string, args: unknown, fetch: () => Promise<T>, joinedBefore: boolean): Promise<T> => {
    if (ttl(account) <= 0) return fetch();
    const b = bucket(account);
    const key = keyOf(region, operation, args);
    const found = b.entries.get(key);
    if (found && fresh(account, found)) {
      if (found.settled || joinedBefore) return found.promise as Promise<T>;
      return join(found, () => get(account, region, operation, args, fetch, true));
    }
    const generation = b.generation;
    const entry: Entry = { promise: Promise.resolve(), settled: false, value: undefined, at: clock() };
    entry.promise = fetch().then(
      (value) => {
        // why: a mutation since the fetch started may have changed what it listed
        if (b.generation !== generation || b.entries.get(key) !== entry) {
          if (b.entries.get(key) === entry) b.entries.delete(key);
          return value;
        }
        Object.assign(entry, { settled: true, value, at: clock() });
        return value;
      },
      (err: unknown) => {
        if (b.entries.get(key) === entry) b.entries.delete(key);
        throw err;
      },
    );
    store(account, key, entry);
    return entry.promise as Promise<T>;
  };

  return {
    get: (account, region, operation, args, fetch) => get(account, region, operation, args, fetch, false),
    async refresh<T>(account: string, region: string | null, operation: string, args: unknown, fetch: () => Promise<T>): Promise<T> {
      const since = bucket(account).generation;
      const value = await fetch();
      this.put(account, region, operation, args, value, since);
      return value;
    },
    put(account, region, operation, args, value, since) {
      if (ttl(account) <= 0 || (since !== undefined && bucket(account).generation !== since)) return;
      store(account, keyOf(region, operation, args), { promise: Promise.resolve(value), settled: true, value, at: clock() });
    },
    generation: (account) => bucket(account).generation,
    invalidate(account) {
      const b = accounts.get(account);
      if (!b) return;
      b.generation++;
      b.entries.clear();
    },
    size() {
      let n = 0;
      for (const b of accounts.values()) n += b.entries.size;
      return n;
    },
  };
}
