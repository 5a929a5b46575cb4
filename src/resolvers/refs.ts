/** Resolving arguments that name a resource either by global id or by native id. */
import { tryDecodeId, type ResourceType } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';

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
