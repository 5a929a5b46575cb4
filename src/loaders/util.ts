import type DataLoader from 'dataloader';
/** Caches the promise of a zero-argument call for the life of one request. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/** Caches the promise of a call per argument key for the life of one request. */
export function perKey<A, T>(fn: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  const seen = new Map<string, Promise<T>>();
  return (arg) => {
    const k = JSON.stringify(arg ?? null);
    let p = seen.get(k);
    if (!p) seen.set(k, (p = fn(arg)));
    return p;
  };
}

/** why: a cached listing is read by many requests; its index by id is built once */
const INDEXES = new WeakMap<readonly { id: string }[], Map<string, unknown>>();

/** Maps a list onto keys, in key order, with null for the missing ones. */
export function pick<T extends { id: string }>(items: readonly T[], keys: readonly string[]): (T | null)[] {
  let byId = INDEXES.get(items) as Map<string, T> | undefined;
  if (!byId) INDEXES.set(items, (byId = new Map(items.map((i) => [i.id, i]))));
  return keys.map((k) => byId.get(k) ?? null);
}

/** One (account, region)'s view of the shared result cache (src/loaders/result-cache.ts). */
export interface Cached {
  /** a listing, from the shared cache while it is fresh */
  get<T>(operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
  /** a listing made now (for lookups of one resource, which must be current), stored for the others */
  refresh<T>(operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
  /**
   * Any other upstream call of a loader (a DataLoader batch): detached from whichever caller
   * started it, under the account's deadline of its own. get and refresh run their fetch so.
   */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T>;
}

/** DataLoader options every loader of a request shares: when its batches are dispatched (src/resolvers/pace.ts). */
export type Batching = Pick<DataLoader.Options<unknown, unknown>, 'batchScheduleFn'>;
