/**
 * Relay-style pagination over an already merged list, with key-based cursors: a cursor is the
 * sort key of the item it stands for, so pages stay correct when items appear or vanish between
 * requests. Forward (`first`/`after`) and backward (`last`/`before`) paging share one slice.
 */
import { InvalidInputError } from '../providers/errors.ts';
import { pacer, type Pacer } from './pace.ts';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** One part of a sort key: strings and numbers compare naturally; null sorts after everything. */
export type KeyPart = string | number | null;

export interface Page<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** every item of the list, across all pages; null when the source cannot tell */
  totalCount: number | null;
}

/** The Relay connection arguments every list field takes. */
export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

/** How items are ordered: the key of each item, and whether each key part runs descending. */
export interface Ordering<T> {
  /** names the order; cursors carry it, so a cursor of another order is refused */
  tag: string;
  key: (item: T) => KeyPart[];
  /** per key part; parts past the end of this list are ascending */
  descending?: readonly boolean[];
}

export function checkCount(n: number | null | undefined, argument: 'first' | 'last'): number | undefined {
  if (n === null || n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new InvalidInputError(`argument "${argument}" must be between 1 and ${MAX_PAGE}, got ${n}`, { field: argument });
  }
  return n;
}

/** `first` or `last` (not both), defaulting to the first DEFAULT_PAGE items. */
export function checkPageArgs(args: PageArgs): { first?: number; last?: number } {
  const first = checkCount(args.first, 'first');
  const last = checkCount(args.last, 'last');
  if (first !== undefined && last !== undefined) {
    throw new InvalidInputError('arguments "first" and "last" cannot be used together', { field: 'last' });
  }
  if (first === undefined && last === undefined) return { first: DEFAULT_PAGE };
  return first !== undefined ? { first } : { last: last! };
}

export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, argument = 'after'): unknown[] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v)) return v;
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError(`argument "${argument}" is not a cursor returned by this API`, { field: argument });
}

/** Sorts by the ordering, keeps the items between `after` and `before`, then the first or last N. */
export function paginate<T>(items: readonly T[], ordering: Ordering<T>, args: PageArgs): Page<T> {
  const { first, last } = checkPageArgs(args);
  return slice([sortRun(items, ordering)], ordering, args, first, last);
}

/**
 * `paginate` over several lists at once (one per account and region, as a fan-out answers),
 * keeping only the items `match` accepts, without holding the event loop for long: the lists
 * are sorted in runs of RUN items, with turns of the event loop in between, and the page is
 * merged from the sorted runs. A list sorted once for an ordering is remembered while it lives
 * (a listing the result cache hands to many requests), so the next page of it costs a merge.
 */
export async function paginateLists<T extends object>(
  lists: readonly (readonly T[])[],
  ordering: Ordering<T>,
  args: PageArgs,
  match?: (item: T) => boolean,
): Promise<Page<T>> {
  const { first, last } = checkPageArgs(args);
  const pace = pacer();
  const runs: SortedRun<T>[] = [];
  for (const list of lists) {
    for (const run of await sortedRuns(list, ordering, pace)) runs.push(match ? await filterRun(run, match, pace) : run);
  }
  return slice(runs, ordering, args, first, last);
}

// --- Internal helpers ---

function comparePart(x: KeyPart, y: KeyPart): number {
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const a = String(x);
  const b = String(y);
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: readonly KeyPart[], b: readonly KeyPart[], descending: readonly boolean[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = comparePart(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return descending[i] ? -c : c;
  }
  return 0;
}

function cursorKey(cursor: string, argument: string, tag: string, length: number): KeyPart[] {
  const [cursorTag, ...key] = decodeCursor(cursor, argument);
  if (cursorTag !== tag || key.length !== length || !key.every((k) => k === null || typeof k === 'string' || typeof k === 'number')) {
    throw new InvalidInputError(`argument "${argument}" is not a cursor of this list and order`, { field: argument });
  }
  return key as KeyPart[];
}

/** Part of a list, sorted: its items and their keys, in order. */
interface SortedRun<T> {
  items: readonly T[];
  keys: readonly (readonly KeyPart[])[];
}

/** Items sorted at once (a few ms of work). */
const RUN = 2048;

/** Sorted runs of each list, per ordering tag, for as long as the list lives. */
const SORTED = new WeakMap<object, Map<string, SortedRun<unknown>[]>>();

async function sortedRuns<T extends object>(list: readonly T[], ordering: Ordering<T>, pace: Pacer): Promise<SortedRun<T>[]> {
  let byTag = SORTED.get(list);
  const known = byTag?.get(ordering.tag) as SortedRun<T>[] | undefined;
  if (known) return known;
  const runs: SortedRun<T>[] = [];
  for (let i = 0; i < list.length; i += RUN) {
    const part = list.length <= RUN ? list : list.slice(i, i + RUN);
    runs.push(sortRun(part, ordering));
    await pace.step(part.length);
  }
  if (!byTag) SORTED.set(list, (byTag = new Map()));
  byTag.set(ordering.tag, runs as SortedRun<unknown>[]);
  return runs;
}

function sortRun<T>(items: readonly T[], ordering: Ordering<T>): SortedRun<T> {
  const descending = ordering.descending ?? [];
  const keyed = items.map((node) => ({ node, key: ordering.key(node) })).sort((a, b) => compareKeys(a.key, b.key, descending));
  return { items: keyed.map((k) => k.node), keys: keyed.map((k) => k.key) };
}

async function filterRun<T>(run: SortedRun<T>, match: (item: T) => boolean, pace: Pacer): Promise<SortedRun<T>> {
  const items: T[] = [];
  const keys: (readonly KeyPart[])[] = [];
  for (let i = 0; i < run.items.length; i++) {
    const item = run.items[i]!;
    if (match(item)) {
      items.push(item);
      keys.push(run.keys[i]!);
    }
  }
  await pace.step(run.items.length);
  return { items, keys };
}

/** The page of the runs' merged order: between the cursors, then the first or last N. */
function slice<T>(runs: readonly SortedRun<T>[], ordering: Ordering<T>, args: PageArgs, first: number | undefined, last: number | undefined): Page<T> {
  const descending = ordering.descending ?? [];
  const total = runs.reduce((n, r) => n + r.items.length, 0);
  const width = runs.find((r) => r.keys.length > 0)?.keys[0]!.length ?? 0;
  // per run, the part between the cursors: [lo, hi)
  let lo = runs.map(() => 0);
  let hi = runs.map((r) => r.items.length);
  if (args.after && total) {
    const k = cursorKey(args.after, 'after', ordering.tag, width);
    lo = runs.map((r) => search(r.keys, (x) => compareKeys(x, k, descending) > 0));
  }
  if (args.before && total) {
    const k = cursorKey(args.before, 'before', ordering.tag, width);
    hi = runs.map((r, i) => Math.max(lo[i]!, search(r.keys, (x) => compareKeys(x, k, descending) >= 0)));
  }
  const start = lo.reduce((a, b) => a + b, 0);
  const end = hi.reduce((a, b) => a + b, 0);
  const from = last !== undefined ? Math.max(start, end - last) : start;
  const to = first !== undefined ? Math.min(end, start + first) : end;
  const picked = last !== undefined ? merge(runs, hi, lo, to - from, descending, -1).reverse() : merge(runs, lo, hi, to - from, descending, 1);
  const edges = picked.map(({ node, key }) => ({ node, cursor: encodeCursor([ordering.tag, ...key]) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: to < total,
      hasPreviousPage: from > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: total,
  };
}

/**
 * `count` items of the runs in merged order, walking forward from `from` (direction 1, up to
 * `limit`) or backward from `from` (direction -1, down to `limit`) in each run.
 */
function merge<T>(
  runs: readonly SortedRun<T>[],
  from: readonly number[],
  limit: readonly number[],
  count: number,
  descending: readonly boolean[],
  direction: 1 | -1,
): { node: T; key: readonly KeyPart[] }[] {
  const at = [...from];
  const out: { node: T; key: readonly KeyPart[] }[] = [];
  while (out.length < count) {
    let best = -1;
    for (let r = 0; r < runs.length; r++) {
      const i = direction === 1 ? at[r]! : at[r]! - 1;
      if (direction === 1 ? i >= limit[r]! : i < limit[r]!) continue;
      if (best < 0) {
        best = r;
        continue;
      }
      const j = direction === 1 ? at[best]! : at[best]! - 1;
      const c = compareKeys(runs[r]!.keys[i]!, runs[best]!.keys[j]!, descending);
      if (direction === 1 ? c < 0 : c > 0) best = r;
    }
    if (best < 0) break;
    const i = direction === 1 ? at[best]! : at[best]! - 1;
    out.push({ node: runs[best]!.items[i]!, key: runs[best]!.keys[i]! });
    at[best] = at[best]! + direction;
  }
  return out;
}

/** The first index whose key satisfies `past` (keys are sorted, so `past` turns true once). */
function search(keys: readonly (readonly KeyPart[])[], past: (key: readonly KeyPart[]) => boolean): number {
  let a = 0;
  let b = keys.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (past(keys[m]!)) b = m;
    else a = m + 1;
  }
  return a;
}
