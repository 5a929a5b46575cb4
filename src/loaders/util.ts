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

/** Maps a list onto keys, in key order, with null for the missing ones. */
export function pick<T extends { id: string }>(items: readonly T[], keys: readonly string[]): (T | null)[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  return keys.map((k) => byId.get(k) ?? null);
}

/** One (account, region)'s view of the shared result cache (src/loaders/result-cache.ts). */
export interface Cached {
  /** a listing, from the shared cache while it is fresh */
  get<T>(operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
  /** a listing made now (for lookups of one resource, which must be current), stored for the others */
  refresh<T>(operation: string, args: unknown, fetch: () => Promise<T>): Promise<T>;
}
