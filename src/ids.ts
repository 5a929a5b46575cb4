/**
 * Global IDs: opaque, stable, and routable. Each carries the GraphQL type, the account, the
 * region (empty for providers without one) and the native id parts, so any id can be sent
 * back to its driver without a lookup.
 */
import { InvalidInputError } from './providers/errors.ts';

export type ResourceType =
  | 'Node'
  | 'Image'
  | 'Size'
  | 'Location'
  | 'Container'
  | 'Object'
  | 'LoadBalancer'
  | 'Member'
  | 'Account'
  | 'Deployment'
  | 'KeyPair'
  | 'Volume'
  | 'VolumeSnapshot'
  | 'Zone'
  | 'Record';

export interface DecodedId {
  type: ResourceType;
  account: string;
  region: string | null;
  /** native id parts: [id] for most types, [container, name] for objects, [balancer, member] for members, [zone, record] for records */
  parts: string[];
}

const TYPES = new Set<string>([
  'Node', 'Image', 'Size', 'Location', 'Container', 'Object', 'LoadBalancer', 'Member', 'Account', 'Deployment',
  'KeyPair', 'Volume', 'VolumeSnapshot', 'Zone', 'Record',
]);

export function encodeId(type: ResourceType, account: string, region: string | null, ...parts: string[]): string {
  return Buffer.from(JSON.stringify([type, account, region ?? '', ...parts]), 'utf8').toString('base64url');
}

/** Decodes an id, or undefined when it is not one of ours. */
export function tryDecodeId(id: string): DecodedId | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length < 4 || !value.every((v) => typeof v === 'string')) return undefined;
  const [type, account, region, ...parts] = value as string[];
  if (!type || !TYPES.has(type) || !account) return undefined;
  return { type: type as ResourceType, account, region: region || null, parts };
}

/**
 * Decodes an id that must be of the given type; the error names the argument so a caller knows
 * which one was wrong.
 */
export function decodeId(id: string, expected: ResourceType | ResourceType[], argument: string): DecodedId {
  const decoded = tryDecodeId(id);
  const types = Array.isArray(expected) ? expected : [expected];
  if (!decoded) throw new InvalidInputError(`argument "${argument}" is not a valid skygraph id`, { field: argument });
  if (!types.includes(decoded.type)) {
    throw new InvalidInputError(`argument "${argument}" is a ${decoded.type} id, expected ${types.join(' or ')}`, {
      field: argument,
    });
  }
  return decoded;
}
