/**
 * Relay-style pagination over an already merged list, with key-based cursors: a cursor is the
 * sort key of the item it stands for, so pages stay correct when items appear or vanish between
 * requests. Forward (`first`/`after`) and backward (`last`/`before`) paging share one slice.
 */
import { InvalidInputError } from '../providers/errors.ts';

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

/** Sorts by the ordering, keeps the items between `after` and `before`, then the first or last N. */
export function paginate<T>(items: readonly T[], ordering: Ordering<T>, args: PageArgs): Page<T> {
  const { first, last } = checkPageArgs(args);
  const descending = ordering.descending ?? [];
  const keyed = items.map((node) => ({ node, key: ordering.key(node) })).sort((a, b) => compareKeys(a.key, b.key, descending));
  const width = keyed[0]?.key.length ?? 0;
  let start = 0;
  let end = keyed.length;
  if (args.after && keyed.length) {
    const k = cursorKey(args.after, 'after', ordering.tag, width);
    const i = keyed.findIndex((x) => compareKeys(x.key, k, descending) > 0);
    start = i < 0 ? keyed.length : i;
  }
  if (args.before && keyed.length) {
    const k = cursorKey(args.before, 'before', ordering.tag, width);
    const i = keyed.findIndex((x) => compareKeys(x.key, k, descending) >= 0);
    end = Math.max(start, i < 0 ? keyed.length : i);
  }
  const from = last !== undefined ? Math.max(start, end - last) : start;
  const to = first !== undefined ? Math.min(end, start + first) : end;
  const edges = keyed.slice(from, to).map((k) => ({ node: k.node, cursor: encodeCursor([ordering.tag, ...k.key]) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: to < keyed.length,
      hasPreviousPage: from > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: keyed.length,
  };
}
