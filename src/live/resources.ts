/**
 * Helpers the lister uses to turn provider models into what the engine diffs: node fingerprints
 * cover what a dashboard shows, balancer fingerprints include the member list so attach/detach
 * is an UPDATED event carrying the new members.
 */
import { createHash } from 'node:crypto';
import type { LoadBalancer, Member, Node } from '../providers/types.ts';
import type { ListedResource } from './types.ts';

/** A balancer as live events carry it: the balancer with its current members. */
export type LiveBalancer = LoadBalancer & { members: Member[] };

export function nodeResource(node: Node): ListedResource {
  return {
    id: node.id,
    state: node.state,
    item: node,
    fingerprint: fingerprint([
      node.name,
      node.state,
      [...node.publicIps].sort(),
      [...node.privateIps].sort(),
      node.sizeId,
      node.imageId,
      node.locationId,
      Object.entries(node.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ]),
  };
}

export function balancerResource(balancer: LoadBalancer, members: readonly Member[]): ListedResource {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const item: LiveBalancer = { ...balancer, members: sorted };
  return {
    id: balancer.id,
    state: balancer.state,
    item,
    fingerprint: fingerprint([
      balancer.name,
      balancer.state,
      balancer.ip,
      balancer.port,
      balancer.protocol,
      balancer.algorithm,
      sorted.map((m) => [m.id, m.ip, m.port, m.nodeId]),
    ]),
  };
}

/** A short stable digest of a JSON-able value (arrays keep their order: sort before). */
export function fingerprint(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64url');
}
