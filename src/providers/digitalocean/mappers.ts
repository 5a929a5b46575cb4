/**
 * DigitalOcean API v2 JSON -> models.
 *
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Images
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Sizes
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Regions
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import { count, date, list, num, obj, str, strings, type Json } from '../rest/json.ts';
import { tagsFromStrings } from '../rest/tags.ts';
import type { Algorithm, BalancerState, Image, LoadBalancer, Location, Member, Node, NodeState, Size } from '../types.ts';

// https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_get (status)
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  new: 'pending',
  active: 'running',
  off: 'stopped',
  archive: 'terminated',
};

// https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_get (status)
export const BALANCER_STATE: Readonly<Record<string, BalancerState>> = {
  new: 'pending',
  active: 'running',
  errored: 'error',
};

/** DigitalOcean's two balancing algorithms and ours. */
export const ALGORITHM_NAMES: Readonly<Partial<Record<Algorithm, string>>> = {
  ROUND_ROBIN: 'round_robin',
  LEAST_CONNECTIONS: 'least_connections',
};

/** why: regions carry no country; the slug's letters name the city */
const REGION_COUNTRY: Readonly<Record<string, string>> = {
  nyc: 'US', sfo: 'US', atl: 'US', ric: 'US', tor: 'CA', ams: 'NL', lon: 'GB', fra: 'DE', sgp: 'SG', blr: 'IN', syd: 'AU',
};

export function toNode(d: Json, provider: string): Node {
  const id = str(d.id);
  if (!id) throw new MalformedResponseError('a droplet without an id', { provider });
  const networks = obj(d.networks);
  const addresses = (family: string, type: string) =>
    list(networks?.[family])
      .filter((n) => n.type === type)
      .map((n) => str(n.ip_address))
      .filter((ip): ip is string => ip !== undefined && isIP(ip) !== 0);
  const image = obj(d.image);
  const region = obj(d.region);
  return {
    id,
    name: str(d.name) ?? '',
    state: NODE_STATE[str(d.status) ?? ''] ?? 'unknown',
    publicIps: [...addresses('v4', 'public'), ...addresses('v6', 'public')],
    privateIps: addresses('v4', 'private'),
    sizeId: str(d.size_slug) ?? str(obj(d.size)?.slug) ?? null,
    imageId: str(image?.id) ?? null,
    locationId: str(region?.slug) ?? null,
    createdAt: date(d.created_at),
    tags: tagsFromStrings(strings(d.tags)),
    extra: {
      status: str(d.status) ?? null,
      memory: count(d.memory),
      vcpus: count(d.vcpus),
      disk: count(d.disk),
      locked: d.locked === true,
      features: strings(d.features),
      imageSlug: str(image?.slug) ?? null,
      imageName: str(image?.name) ?? null,
      vpcUuid: str(d.vpc_uuid) ?? null,
      volumeIds: strings(d.volume_ids),
      tagList: strings(d.tags),
    },
  };
}

export function toImage(i: Json, provider: string): Image {
  const id = str(i.id);
  if (!id) throw new MalformedResponseError('an image without an id', { provider });
  const isPublic = i.public === true;
  return {
    id,
    name: str(i.name) ?? '',
    extra: {
      slug: str(i.slug) ?? null,
      distribution: str(i.distribution) ?? null,
      type: str(i.type) ?? null,
      public: isPublic,
      // why: DigitalOcean images have no owner; public ones are DigitalOcean's, private ones the account's
      owner: isPublic ? 'digitalocean' : 'self',
      regions: strings(i.regions),
      minDiskSize: num(i.min_disk_size) ?? null,
      sizeGigabytes: num(i.size_gigabytes) ?? null,
      status: str(i.status) ?? null,
      description: str(i.description) ?? null,
      createdAt: str(i.created_at) ?? null,
    },
  };
}

export function toSize(s: Json, provider: string): Size {
  const id = str(s.slug);
  if (!id) throw new MalformedResponseError('a size without a slug', { provider });
  return {
    id,
    name: str(s.description) ?? id,
    ram: count(s.memory),
    disk: count(s.disk),
    bandwidth: null,
    price: num(s.price_hourly) ?? null,
    extra: {
      vcpus: count(s.vcpus),
      transferTb: num(s.transfer) ?? null,
      priceMonthly: num(s.price_monthly) ?? null,
      regions: strings(s.regions),
      available: s.available !== false,
    },
  };
}

export function toLocation(r: Json, provider: string): Location {
  const id = str(r.slug);
  if (!id) throw new MalformedResponseError('a region without a slug', { provider });
  return {
    id,
    name: str(r.name) ?? id,
    country: REGION_COUNTRY[id.replace(/\d+$/, '')] ?? '',
    extra: { available: r.available !== false, features: strings(r.features), sizes: strings(r.sizes) },
  };
}

/** The first forwarding rule is the balancer's port and protocol. */
export function toBalancer(lb: Json, provider: string): LoadBalancer {
  const id = str(lb.id);
  if (!id) throw new MalformedResponseError('a load balancer without an id', { provider });
  const rules = list(lb.forwarding_rules);
  const first = rules[0];
  const ip = str(lb.ip);
  const algorithm = (Object.keys(ALGORITHM_NAMES) as Algorithm[]).find((a) => ALGORITHM_NAMES[a] === lb.algorithm) ?? null;
  return {
    id,
    name: str(lb.name) ?? '',
    state: BALANCER_STATE[str(lb.status) ?? ''] ?? 'unknown',
    ip: ip && isIP(ip) ? ip : null,
    port: num(first?.entry_port) ?? null,
    protocol: str(first?.entry_protocol) ?? null,
    algorithm,
    extra: {
      status: str(lb.status) ?? null,
      region: str(obj(lb.region)?.slug) ?? null,
      targetPort: num(first?.target_port) ?? null,
      forwardingRules: rules.map((r) => ({
        entryProtocol: str(r.entry_protocol) ?? null,
        entryPort: num(r.entry_port) ?? null,
        targetProtocol: str(r.target_protocol) ?? null,
        targetPort: num(r.target_port) ?? null,
        certificateId: str(r.certificate_id) ?? null,
        tlsPassthrough: r.tls_passthrough === true,
      })),
      dropletIds: dropletIds(lb),
      tag: str(lb.tag) ?? null,
      sizeUnit: num(lb.size_unit) ?? null,
      ipv6: str(lb.ipv6) ?? null,
      createdAt: str(lb.created_at) ?? null,
    },
  };
}

/** Droplets are the members, on the first rule's target port. */
export function toMembers(lb: Json): Member[] {
  const port = num(list(lb.forwarding_rules)[0]?.target_port) ?? null;
  return dropletIds(lb).map((id) => ({ id, ip: null, port, nodeId: id, extra: {} }));
}

export function dropletIds(lb: Json): string[] {
  return Array.isArray(lb.droplet_ids) ? lb.droplet_ids.map(str).filter((s): s is string => s !== undefined) : [];
}
