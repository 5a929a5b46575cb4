/**
 * Nova and Glance JSON -> models.
 *
 * https://docs.openstack.org/api-ref/compute/#list-servers-detailed
 * https://docs.openstack.org/api-ref/compute/#list-flavors-with-details
 * https://docs.openstack.org/api-ref/image/v2/#list-images
 */
import { isIPv4, isIPv6 } from 'node:net';
import { MalformedResponseError } from '../../errors.ts';
import { count, date, list, obj, str, type Json } from '../../rest/json.ts';
import type { Image, KeyPair, Location, Node, Size } from '../../types.ts';
import { toNodeState } from './states.ts';

export function requireId(o: Json, what: string, provider: string): string {
  const id = str(o.id);
  if (!id) throw new MalformedResponseError(`${what} without an id`, { provider });
  return id;
}

/** RFC 1918, shared (RFC 6598), link-local and loopback IPv4; ULA, site-local and link-local IPv6. */
export function isPrivateIp(ip: string): boolean {
  if (isIPv4(ip)) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  if (isIPv6(ip)) {
    const head = parseInt(ip.split(':')[0] || '0', 16);
    return (head & 0xfe00) === 0xfc00 || (head & 0xffc0) === 0xfe80 || (head & 0xffc0) === 0xfec0 || ip === '::1';
  }
  return false;
}

/** Floating addresses are public; fixed ones are split by range. */
export function splitAddresses(server: Json): { publicIps: string[]; privateIps: string[] } {
  const pub = new Set<string>();
  const priv = new Set<string>();
  for (const entries of Object.values(obj(server.addresses) ?? {})) {
    for (const entry of list(entries)) {
      const addr = str(entry.addr);
      if (!addr || (!isIPv4(addr) && !isIPv6(addr))) continue;
      if (entry['OS-EXT-IPS:type'] === 'floating' || !isPrivateIp(addr)) pub.add(addr);
      else priv.add(addr);
    }
  }
  for (const key of ['accessIPv4', 'accessIPv6']) {
    const addr = str(server[key]);
    if (addr && (isIPv4(addr) || isIPv6(addr)) && !priv.has(addr)) pub.add(addr);
  }
  return { publicIps: [...pub], privateIps: [...priv] };
}

export function toNode(server: Json, provider: string, fallbackLocation?: string): Node {
  const image = obj(server.image);
  const flavor = obj(server.flavor);
  const addresses = obj(server.addresses) ?? {};
  const extra: Json = {
    status: str(server.status) ?? null,
    taskState: str(server['OS-EXT-STS:task_state']) ?? null,
    vmState: str(server['OS-EXT-STS:vm_state']) ?? null,
    powerState: typeof server['OS-EXT-STS:power_state'] === 'number' ? server['OS-EXT-STS:power_state'] : null,
    keyName: str(server.key_name) ?? null,
    tenantId: str(server.tenant_id) ?? null,
    userId: str(server.user_id) ?? null,
    hostId: str(server.hostId) ?? null,
    networks: Object.keys(addresses),
    securityGroups: list(server.security_groups).map((g) => str(g.name)).filter(Boolean),
    volumesAttached: list(server['os-extended-volumes:volumes_attached']).map((v) => str(v.id)).filter(Boolean),
    diskConfig: str(server['OS-DCF:diskConfig']) ?? null,
    progress: typeof server.progress === 'number' ? server.progress : null,
    updatedAt: str(server.updated) ?? null,
  };
  return {
    id: requireId(server, 'server', provider),
    name: str(server.name) ?? '',
    state: toNodeState(server.status, server['OS-EXT-STS:task_state']),
    ...splitAddresses(server),
    sizeId: str(flavor?.id) ?? null,
    // why: a server booted from a volume has image "" instead of an object
    imageId: str(image?.id) ?? null,
    locationId: str(server['OS-EXT-AZ:availability_zone']) ?? fallbackLocation ?? null,
    createdAt: date(server.created),
    tags: stringValues(obj(server.metadata)),
    extra,
  };
}

/** Server metadata is string -> string by the API's definition; anything else is dropped. */
function stringValues(o: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function toSize(flavor: Json, provider: string, prices: Record<string, number> | undefined): Size {
  const id = requireId(flavor, 'flavor', provider);
  const name = str(flavor.name) ?? id;
  const price = prices?.[id] ?? prices?.[name];
  return {
    id,
    name,
    ram: count(flavor.ram),
    disk: count(flavor.disk),
    bandwidth: null,
    price: typeof price === 'number' && Number.isFinite(price) && price >= 0 ? price : null,
    extra: {
      vcpus: count(flavor.vcpus),
      swap: count(flavor.swap),
      ephemeral: count(flavor['OS-FLV-EXT-DATA:ephemeral']),
      rxtxFactor: typeof flavor.rxtx_factor === 'number' ? flavor.rxtx_factor : null,
      isPublic: typeof flavor['os-flavor-access:is_public'] === 'boolean' ? flavor['os-flavor-access:is_public'] : null,
    },
  };
}

/** A Glance v2 image. */
export function toGlanceImage(image: Json, provider: string): Image {
  return {
    id: requireId(image, 'image', provider),
    name: str(image.name) ?? '',
    extra: {
      status: str(image.status) ?? null,
      visibility: str(image.visibility) ?? null,
      owner: str(image.owner) ?? null,
      size: typeof image.size === 'number' ? image.size : null,
      minDisk: count(image.min_disk),
      minRam: count(image.min_ram),
      diskFormat: str(image.disk_format) ?? null,
      containerFormat: str(image.container_format) ?? null,
      osDistro: str(image.os_distro) ?? null,
      tags: Array.isArray(image.tags) ? image.tags.filter((t) => typeof t === 'string') : [],
      createdAt: str(image.created_at) ?? null,
      updatedAt: str(image.updated_at) ?? null,
    },
  };
}

/** An image from Nova's (deprecated) images API. */
export function toNovaImage(image: Json, provider: string): Image {
  return {
    id: requireId(image, 'image', provider),
    name: str(image.name) ?? '',
    extra: {
      status: str(image.status) ?? null,
      minDisk: count(image.minDisk),
      minRam: count(image.minRam),
      size: typeof image['OS-EXT-IMG-SIZE:size'] === 'number' ? image['OS-EXT-IMG-SIZE:size'] : null,
      metadata: obj(image.metadata) ?? {},
      createdAt: str(image.created) ?? null,
      updatedAt: str(image.updated) ?? null,
    },
  };
}

export function toLocation(zone: Json): Location | undefined {
  const name = str(zone.zoneName);
  if (!name) return undefined;
  return { id: name, name, country: '', extra: { available: obj(zone.zoneState)?.available === true } };
}

export function toKeyPair(k: Json, privateKey?: string): KeyPair {
  return {
    name: str(k.name) ?? '',
    fingerprint: str(k.fingerprint) ?? null,
    publicKey: str(k.public_key)?.trim() ?? null,
    ...(privateKey !== undefined ? { privateKey } : {}),
    extra: { type: str(k.type) ?? null, userId: str(k.user_id) ?? null },
  };
}
