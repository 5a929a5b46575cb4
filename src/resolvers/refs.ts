/** Resolving arguments that name a resource either by global id or by native id. */
import { tryDecodeId, type ResourceType } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { AccountRuntime } from '../runtime.ts';

/**
 * Returns the native id for an argument that may be a global id of the given type (which must
 * belong to the same account) or already a native id.
 */
export function nativeIdFor(value: string, type: ResourceType, account: string, argument: string): string {
  const decoded = tryDecodeId(value);
  if (!decoded) return value;
  if (decoded.type !== type) {
    throw new InvalidInputError(`argument "${argument}" is a ${decoded.type} id, expected a ${type}`, { field: argument });
  }
  if (decoded.account !== account) {
    throw new InvalidInputError(`argument "${argument}" belongs to account "${decoded.account}", not "${account}"`, { field: argument });
  }
  return decoded.parts[0] ?? '';
}

/**
 * The region an operation on `account` runs in: `region` when given (it must be one of the
 * account's), else the account's only region; with several regions it must be given.
 */
export function regionFor(account: AccountRuntime, region: string | null | undefined, argument: string): string | null {
  const regions = account.regions;
  if (region) {
    if (!regions.includes(region)) {
      throw new InvalidInputError(`argument "${argument}": account "${account.config.id}" has no region "${region}"`, { field: argument });
    }
    return region;
  }
  if (regions.length <= 1) return regions[0] ?? null;
  throw new InvalidInputError(`argument "${argument}" is required: account "${account.config.id}" has several regions`, { field: argument });
}
