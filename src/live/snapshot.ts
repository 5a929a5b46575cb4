/**
 * Snapshots of one (account, region, kind) and the diff between a snapshot and a new listing.
 * Pure functions: the poller owns the clock and the storage.
 */
import { reviveItem } from './codec.ts';
import type { EventKind, ListedResource } from './types.ts';

/** What the engine remembers about one resource. */
export interface SnapshotEntry {
  state: string;
  /** undefined when unknown (set by a mutation): the next poll adopts its own silently */
  fingerprint?: string | null | undefined;
  item: unknown;
  /** Date.now() of the last mutation event applied; cleared once a later poll lists the resource */
  mutatedAt?: number | undefined;
  /** deleted by a mutation while listings may still show it: never reported as CREATED */
  gone?: boolean | undefined;
}

export type Snapshot = Map<string, SnapshotEntry>;

/** One change found by a diff, before it becomes a LiveEvent. */
export interface Change {
  kind: EventKind;
  id: string;
  item: unknown;
  previousState: string | null;
  state: string | null;
}

export interface DiffClock {
  /** Date.now() when the list call started */
  pollStartedAt: number;
  now: number;
  /** how long a resource a mutation reported may stay missing from listings before DELETED */
  graceMs: number;
}

/** The first listing: a baseline that emits nothing. */
export function baseline(listed: readonly ListedResource[]): Snapshot {
  const snap: Snapshot = new Map();
  for (const r of listed) snap.set(r.id, fromListed(r));
  return snap;
}

/**
 * Compares a listing with the previous snapshot: new id -> CREATED, missing id -> DELETED,
 * state or fingerprint changed -> UPDATED. Entries a mutation touched after the listing began
 * are kept as they are, since the listing may predate the change.
 */
export function diff(prev: Snapshot, listed: readonly ListedResource[], clock: DiffClock): { next: Snapshot; changes: Change[] } {
  const next: Snapshot = new Map();
  const changes: Change[] = [];
  for (const r of listed) {
    const old = prev.get(r.id);
    if (old === undefined) {
      next.set(r.id, fromListed(r));
      changes.push({ kind: 'CREATED', id: r.id, item: r.item, previousState: null, state: r.state });
    } else if (old.mutatedAt !== undefined && old.mutatedAt >= clock.pollStartedAt) {
      next.set(r.id, old);
    } else if (old.gone) {
      // why: providers keep listing deleted resources for a while (EC2 shows terminated ones for an hour)
      next.set(r.id, old);
    } else {
      next.set(r.id, fromListed(r));
      const fingerprintChanged = old.fingerprint !== undefined && old.fingerprint !== (r.fingerprint ?? null);
      if (old.state !== r.state || fingerprintChanged) {
        changes.push({ kind: 'UPDATED', id: r.id, item: r.item, previousState: old.state, state: r.state });
      }
    }
  }
  for (const [id, old] of prev) {
    if (next.has(id) || old.gone) continue;
    const m = old.mutatedAt;
    // why: a resource a mutation just created may not be listed yet (eventually consistent APIs)
    if (m !== undefined && (m >= clock.pollStartedAt || clock.now - m < clock.graceMs)) {
      next.set(id, old);
      continue;
    }
    changes.push({ kind: 'DELETED', id, item: old.item, previousState: old.state, state: null });
  }
  return { next, changes };
}

/** Records a change skygraph made itself, so the next poll does not report it again. */
export function applyMutation(
  snap: Snapshot,
  change: { kind: EventKind; id: string; item: unknown; state: string | null },
  at: number,
): void {
  const old = snap.get(change.id);
  if (change.kind === 'DELETED') {
    snap.set(change.id, { state: old?.state ?? change.state ?? 'unknown', item: change.item, mutatedAt: at, gone: true });
    return;
  }
  snap.set(change.id, { state: change.state ?? old?.state ?? 'unknown', fingerprint: undefined, item: change.item, mutatedAt: at });
}

interface StoredEntry {
  id: string;
  state: string;
  fingerprint?: string | null;
  item: unknown;
  mutatedAt?: number;
  gone?: true;
}

export function encodeSnapshot(snap: Snapshot): string {
  const entries: StoredEntry[] = [];
  for (const [id, e] of snap) {
    const stored: StoredEntry = { id, state: e.state, item: e.item };
    if (e.fingerprint !== undefined) stored.fingerprint = e.fingerprint;
    if (e.mutatedAt !== undefined) stored.mutatedAt = e.mutatedAt;
    if (e.gone) stored.gone = true;
    entries.push(stored);
  }
  return JSON.stringify({ v: 1, entries });
}

/** null when absent or unreadable: the caller then takes a fresh baseline. */
export function decodeSnapshot(text: string | null): Snapshot | null {
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const entries = (parsed as { v?: unknown; entries?: unknown } | null)?.entries;
  if ((parsed as { v?: unknown }).v !== 1 || !Array.isArray(entries)) return null;
  const snap: Snapshot = new Map();
  for (const s of entries as StoredEntry[]) {
    if (typeof s?.id !== 'string' || typeof s.state !== 'string') return null;
    snap.set(s.id, {
      state: s.state,
      fingerprint: s.fingerprint,
      item: reviveItem(s.item),
      mutatedAt: s.mutatedAt,
      gone: s.gone,
    });
  }
  return snap;
}

// --- Internal helpers ---

function fromListed(r: ListedResource): SnapshotEntry {
  return { state: r.state, fingerprint: r.fingerprint ?? null, item: r.item };
}
