/**
 * Batch lookups (getNodes, getImages) for APIs without a multi-id lookup: one listing answers a
 * whole batch, instead of one GET per id.
 */

/** `ids` looked up in `items`, in key order: the item with that id, or null. */
export function pickByIds<T extends { id: string }>(items: readonly T[], ids: readonly string[]): (T | null)[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** A batch lookup that makes one `list()` call per batch (`getNodes: batchFromListing(listNodes)`). */
export function batchFromListing<T extends { id: string }>(list: () => Promise<readonly T[]>): (ids: readonly string[]) => Promise<(T | null)[]> {
  return async (ids) => pickByIds(await list(), ids);
}
