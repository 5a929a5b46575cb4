/** Caches the promise of a zero-argument call for the life of one request. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/** Maps a list onto keys, in key order, with null for the missing ones. */
export function pick<T extends { id: string }>(items: readonly T[], keys: readonly string[]): (T | null)[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  return keys.map((k) => byId.get(k) ?? null);
}
