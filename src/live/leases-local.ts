/**
 * In-memory leases and snapshots for a single process (no Redis). Several hubs in one process
 * may share one store, which behaves like the Redis one.
 */
import type { LeaseStore } from './types.ts';

/** Leases and snapshots in this process; close() is a no-op so several hubs may share one. */
export function localLeases(): LeaseStore {
  const leases = new Map<string, { holder: string; expiresAt: number }>();
  const snapshots = new Map<string, { value: string; expiresAt: number }>();

  function holderOf(key: string): string | null {
    const lease = leases.get(key);
    if (!lease) return null;
    if (lease.expiresAt <= Date.now()) {
      leases.delete(key);
      return null;
    }
    return lease.holder;
  }

  return {
    async acquire(key, holder, ttlMs) {
      const current = holderOf(key);
      if (current !== null && current !== holder) return false;
      leases.set(key, { holder, expiresAt: Date.now() + ttlMs });
      return true;
    },
    async renew(key, holder, ttlMs) {
      if (holderOf(key) !== holder) return false;
      leases.set(key, { holder, expiresAt: Date.now() + ttlMs });
      return true;
    },
    async release(key, holder) {
      if (holderOf(key) === holder) leases.delete(key);
    },
    async loadSnapshot(key) {
      const snap = snapshots.get(key);
      if (!snap) return null;
      if (snap.expiresAt <= Date.now()) {
        snapshots.delete(key);
        return null;
      }
      return snap.value;
    },
    async saveSnapshot(key, holder, value, ttlMs) {
      if (holderOf(key) !== holder) return false;
      snapshots.set(key, { value, expiresAt: Date.now() + ttlMs });
      return true;
    },
    async close() {
      // why: a shared store outlives any one hub; close() only means this hub is done with it
    },
  };
}
