/**
 * Per-account polling health on this replica, aggregated over the account's pollers: the account
 * is ok when none of them is failing.
 */
import type { SkygraphError } from '../providers/errors.ts';
import type { AccountHealth } from './types.ts';

interface PollerHealth {
  failures: number;
  lastError: { code: string; message: string } | null;
  lastErrorAt: number;
}

export interface HealthBook {
  record(accountId: string, pollerKey: string, err: SkygraphError | null, ok: boolean): void;
  get(accountId: string): AccountHealth;
}

export function createHealthBook(now: () => Date, onHealth?: (accountId: string, health: AccountHealth) => void): HealthBook {
  const accounts = new Map<string, { pollers: Map<string, PollerHealth>; lastSuccessAt: string | null }>();
  let sequence = 0;

  function get(accountId: string): AccountHealth {
    const account = accounts.get(accountId);
    let worst = 0;
    let latest: PollerHealth | null = null;
    for (const p of account?.pollers.values() ?? []) {
      worst = Math.max(worst, p.failures);
      if (p.failures > 0 && (latest === null || p.lastErrorAt > latest.lastErrorAt)) latest = p;
    }
    return {
      ok: worst === 0,
      consecutiveFailures: worst,
      lastError: latest?.lastError ?? null,
      lastSuccessAt: account?.lastSuccessAt ?? null,
    };
  }

  return {
    record(accountId, pollerKey, err, ok) {
      let account = accounts.get(accountId);
      if (!account) accounts.set(accountId, (account = { pollers: new Map(), lastSuccessAt: null }));
      let poller = account.pollers.get(pollerKey);
      if (!poller) account.pollers.set(pollerKey, (poller = { failures: 0, lastError: null, lastErrorAt: 0 }));
      if (ok) {
        account.lastSuccessAt = now().toISOString();
        if (poller.failures === 0) return;
        poller.failures = 0;
        poller.lastError = null;
      } else {
        poller.failures++;
        // why: messages come from typed errors, which never carry credentials
        poller.lastError = { code: err?.code ?? 'PROVIDER_ERROR', message: err?.message ?? 'poll failed' };
        poller.lastErrorAt = ++sequence;
      }
      onHealth?.(accountId, get(accountId));
    },
    get,
  };
}
