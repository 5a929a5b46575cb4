/** Optional driver operations: the driver when it has the operation, else UNSUPPORTED. */
import { UnsupportedError } from '../providers/errors.ts';
import type { ComputeDriver, StorageDriver } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';

/** The error for an optional driver operation the account's driver does not have. */
export function unsupported(driver: string, op: string): UnsupportedError {
  return new UnsupportedError(`driver ${driver} does not support ${op} (see Account.capabilities)`);
}

/** The account's compute driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function computeWith<K extends keyof ComputeDriver>(account: AccountRuntime, region: string | null, ...ops: K[]): ComputeDriver & Required<Pick<ComputeDriver, K>> {
  const driver = account.compute(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account.definition.name, op);
  return driver as ComputeDriver & Required<Pick<ComputeDriver, K>>;
}

/** The account's storage driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function storageWith<K extends keyof StorageDriver>(account: AccountRuntime, region: string | null, ...ops: K[]): StorageDriver & Required<Pick<StorageDriver, K>> {
  const driver = account.storage(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account.definition.name, op);
  return driver as StorageDriver & Required<Pick<StorageDriver, K>>;
}
