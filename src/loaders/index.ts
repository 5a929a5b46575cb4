/**
 * Per-request loaders, partitioned by (account, region). Every list is fetched at most once per
 * request and read through the shared result cache (src/loaders/result-cache.ts), and every by-id
 * lookup is batched and de-duplicated through a DataLoader, so a query over N nodes makes one
 * upstream call per (account, region, operation), never N, and repeated list queries within the
 * account's cacheTtlMs make none. A lookup of one resource by id asks upstream (it must be
 * current) and refreshes the cached listing it came from.
 *
 * Every upstream call a loader makes is shared (by the fields of a request, and through the
 * result cache by other requests), so it runs detached from the caller that happened to start
 * it, under the account's deadline of its own (Cached.call): one caller's deadline never cuts
 * off a listing that others still wait for, and a hanging upstream is still aborted.
 */
import type { Runtime } from '../runtime.ts';
import { createComputeLoaders, type ComputeLoaders } from './compute.ts';
import { createStorageLoaders, type StorageLoaders } from './storage.ts';
import { createLoadBalancerLoaders, type LoadBalancerLoaders } from './loadbalancer.ts';
import { createDnsLoaders, type DnsLoaders } from './dns.ts';
import type { Batching, Cached } from './util.ts';

export interface Loaders {
  compute(account: string, region: string | null): ComputeLoaders;
  storage(account: string, region: string | null): StorageLoaders;
  loadBalancer(account: string, region: string | null): LoadBalancerLoaders;
  dns(account: string, region: string | null): DnsLoaders;
  /** drops this request's loaders of an account (after a mutation changed it) */
  forget(account: string): void;
}

/** `batching`: when DataLoader batches are dispatched (the request's paced lists, src/resolvers/pace.ts) */
export function createLoaders(runtime: Runtime, batching: Batching = {}): Loaders {
  const cache = new Map<string, unknown>();
  const memo = <T>(kind: string, account: string, region: string | null, make: (cached: Cached) => T): T => {
    const k = JSON.stringify([account, kind, region]);
    let v = cache.get(k) as T | undefined;
    if (v === undefined) {
      const call = <R>(operation: string, fn: () => Promise<R>) => runtime.account(account).withDeadline(operation, fn, { detached: true });
      const cached: Cached = {
        get: (operation, args, fetch) => runtime.cache.get(account, region, operation, args, () => call(operation, fetch)),
        refresh: (operation, args, fetch) => runtime.cache.refresh(account, region, operation, args, () => call(operation, fetch)),
        call,
      };
      v = make(cached);
      cache.set(k, v);
    }
    return v;
  };
  return {
    compute: (account, region) => memo('compute', account, region, (c) => createComputeLoaders(runtime.account(account).compute(region), c, batching)),
    storage: (account, region) => memo('storage', account, region, (c) => createStorageLoaders(runtime.account(account).storage(region), c, batching)),
    loadBalancer: (account, region) =>
      memo('lb', account, region, (c) => createLoadBalancerLoaders(runtime.account(account).loadBalancer(region), c, batching)),
    dns: (account, region) => memo('dns', account, region, (c) => createDnsLoaders(runtime.account(account).dns(region), c, batching)),
    forget(account) {
      const prefix = JSON.stringify([account]).slice(0, -1) + ',';
      for (const k of [...cache.keys()]) if (k.startsWith(prefix)) cache.delete(k);
    },
  };
}
