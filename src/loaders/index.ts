/**
 * Per-request loaders, partitioned by (account, region). Every list is fetched at most once per
 * request, and every by-id lookup is batched and de-duplicated through a DataLoader, so a query
 * over N nodes makes one upstream call per (account, region, operation), never N.
 */
import type { Runtime } from '../runtime.ts';
import { createComputeLoaders, type ComputeLoaders } from './compute.ts';
import { createStorageLoaders, type StorageLoaders } from './storage.ts';
import { createLoadBalancerLoaders, type LoadBalancerLoaders } from './loadbalancer.ts';

export interface Loaders {
  compute(account: string, region: string | null): ComputeLoaders;
  storage(account: string, region: string | null): StorageLoaders;
  loadBalancer(account: string, region: string | null): LoadBalancerLoaders;
}

export function createLoaders(runtime: Runtime): Loaders {
  const cache = new Map<string, unknown>();
  const memo = <T>(kind: string, account: string, region: string | null, make: () => T): T => {
    const k = JSON.stringify([kind, account, region]);
    let v = cache.get(k) as T | undefined;
    if (v === undefined) {
      v = make();
      cache.set(k, v);
    }
    return v;
  };
  return {
    compute: (account, region) =>
      memo('compute', account, region, () => createComputeLoaders(runtime.account(account).compute(region))),
    storage: (account, region) =>
      memo('storage', account, region, () => createStorageLoaders(runtime.account(account).storage(region))),
    loadBalancer: (account, region) =>
      memo('lb', account, region, () => createLoadBalancerLoaders(runtime.account(account).loadBalancer(region))),
  };
}
