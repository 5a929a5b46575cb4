import DataLoader from 'dataloader';
import type { LoadBalancer, LoadBalancerDriver, Member } from '../providers/types.ts';
import { once, type Batching, type Cached } from './util.ts';

export interface LoadBalancerLoaders {
  balancers: () => Promise<LoadBalancer[]>;
  balancer: DataLoader<string, LoadBalancer>;
  members: DataLoader<string, Member[]>;
  protocols: () => Promise<string[]>;
}

export function createLoadBalancerLoaders(driver: LoadBalancerDriver, cached: Cached, batching: Batching = {}): LoadBalancerLoaders {
  const balancers = once(async () => {
    const list = await cached.get('listBalancers', null, () => driver.listBalancers());
    for (const b of list) balancer.prime(b.id, b);
    return list;
  });
  const balancer = new DataLoader<string, LoadBalancer>((ids) =>
    Promise.all(ids.map((id) => cached.call('getBalancer', () => driver.getBalancer(id)).catch((e: unknown) => e as Error))),
    batching,
  );
  // why: no provider lists members of several balancers in one call; this still de-duplicates
  const members = new DataLoader<string, Member[]>((ids) =>
    Promise.all(ids.map((id) => cached.get('listMembers', id, () => driver.listMembers(id)).catch((e: unknown) => e as Error))),
    batching,
  );
  const protocols = once(() => cached.get('listProtocols', null, () => driver.listProtocols()));
  return { balancers, balancer, members, protocols };
}
