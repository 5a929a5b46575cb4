import DataLoader from 'dataloader';
import type { Container, StorageDriver, StorageObject } from '../providers/types.ts';
import { NotFoundError } from '../providers/errors.ts';
import { once, type Batching, type Cached } from './util.ts';

export interface StorageLoaders {
  containers: () => Promise<Container[]>;
  container: DataLoader<string, Container>;
  /** key: [container, name] */
  object: DataLoader<readonly [string, string], StorageObject, string>;
}

export function createStorageLoaders(driver: StorageDriver, cached: Cached, batching: Batching = {}): StorageLoaders {
  const containers = once(async () => {
    const list = await cached.get('listContainers', null, () => driver.listContainers());
    for (const c of list) container.prime(c.name, c);
    return list;
  });
  const container = new DataLoader<string, Container>((names) =>
    Promise.all(names.map((n) => cached.call('getContainer', () => driver.getContainer(n)).catch((e: unknown) => toError(e)))),
    batching,
  );
  const object = new DataLoader<readonly [string, string], StorageObject, string>(
    (keys) => Promise.all(keys.map(([c, n]) => cached.call('getObject', () => driver.getObject(c, n)).catch((e: unknown) => toError(e)))),
    { ...batching, cacheKeyFn: (k) => JSON.stringify(k) },
  );
  return { containers, container, object };
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new NotFoundError(String(e));
}
