/**
 * Per-account health on this replica, from every call skygraph makes to the account: request
 * fan-outs, lookups, mutations and live polls. Each source (region and operation, or poller) keeps
 * its count of consecutive failures; the account is failing while any source is.
 */
import type { SkygraphError } from '../providers/errors.ts';
import type { AccountHealth } from './types.ts';

interface SourceHealth {
  failures: number;
  lastError: { code: string; message: string } | null;
  lastErrorAt: number;
}

/** `onHealth` hears every failure, and each recovery of a source that was failing. */
export interface HealthBook {
  /** one outcome of `source` (e.g. `eu-west-1:nodes`, `poll:...`): null for success */
  record(accountId: string, source: string, err: SkygraphError | null): void;
  get(accountId: string): AccountHealth;
}

export function createHealthBook(now: () => Date, onHealth?: (accountId: string, health: AccountHealth) => void): HealthBook {
  const accounts = new Map<string, { sources: Map<string, SourceHealth>; lastSuccessAt: string | null; lastFailureAt: string | null }>();
  let sequence = 0;

  function get(accountId: string): AccountHealth {
    const account = accounts.get(accountId);
    let worst = 0;
    let latest: SourceHealth | null = null;
    for (const p of account?.sources.values() ?? []) {
      worst = Math.max(worst, p.failures);
      if (p.failures > 0 && (latest === null || p.lastErrorAt > latest.lastErrorAt)) latest = p;
    }
    return {
      status: !account ? 'UNKNOWN' : worst > 0 ? 'FAILING' : 'OK',
      ok: worst === 0,
      consecutiveFailures: worst,
      lastError: latest?.lastError ?? null,
      lastSuccessAt: account?.lastSuccessAt ?? null,
      lastFailureAt: account?.lastFailureAt ?? null,
    };
  }

  return {
    record(accountId, key, err) {
      let account = accounts.get(accountId);
      if (!account) accounts.set(accountId, (account = { sources: new Map(), lastSuccessAt: null, lastFailureAt: null }));
      let source = account.sources.get(key);
      if (!source) account.sources.set(key, (source = { failures: 0, lastError: null, lastErrorAt: 0 }));
      const at = now().toISOString();
      if (!err) {
        account.lastSuccessAt = at;
        if (source.failures === 0) return;
        source.failures = 0;
        source.lastError = null;
      } else {
        source.failures++;
        account.lastFailureAt = at;
        // why: messages come from typed errors, which never carry credentials
        source.lastError = { code: err.code, message: err.message };
        source.lastErrorAt = ++sequence;
      }
      onHealth?.(accountId, get(accountId));
    },
    get,
  };
}
