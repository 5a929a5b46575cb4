/**
 * Relay-style pagination over an already merged list, with key-based cursors: a cursor names
 * the last item seen, so pages stay correct when items appear or vanish between requests.
 */
import { InvalidInputError } from '../providers/errors.ts';

export const MAX_PAGE = 1000;

export interface Page<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export function checkFirst(first: number | null | undefined, fallback = 100): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new InvalidInputError(`argument "first" must be between 1 and ${MAX_PAGE}, got ${n}`, { field: 'first' });
  }
  return n;
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

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Sorts by key, keeps items after the `after` cursor, returns at most `first`. */
export function paginate<T>(items: readonly T[], keyOf: (item: T) => string[], first: number | null | undefined, after: string | null | undefined): Page<T> {
  const limit = checkFirst(first);
  const keyed = items.map((node) => ({ node, key: keyOf(node) })).sort((a, b) => compareKeys(a.key, b.key));
  let start = 0;
  if (after) {
    const afterKey = decodeCursor(after).map(String);
    start = keyed.findIndex((k) => compareKeys(k.key, afterKey) > 0);
    if (start < 0) start = keyed.length;
  }
  const slice = keyed.slice(start, start + limit);
  const edges = slice.map((k) => ({ node: k.node, cursor: encodeCursor(k.key) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: start + limit < keyed.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: keyed.length,
  };
}
