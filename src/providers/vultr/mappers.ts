/**
 * Vultr API v2 JSON -> models.
 *
 * https://www.vultr.com/api/#tag/instances
 * https://www.vultr.com/api/#tag/plans
 * https://www.vultr.com/api/#tag/os
 * https://www.vultr.com/api/#tag/region
 * https://www.vultr.com/api/#tag/load-balancer
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import { count, date, list, num, obj, str, strings, type Json } from '../rest/json.ts';
import { tagsFromStrings } from '../rest/tags.ts';
import type { Algorithm, BalancerState, Image, LoadBalancer, Location, Member, Node, NodeState, Size } from '../types.ts';

// https://www.vultr.com/api/#tag/instances/operation/get-instance (status; power_status and server_status refine `active`)
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  pending: 'pending',
  active: 'running',
  suspended: 'suspended',
  resizing: 'reconfiguring',
};

// https://www.vultr.com/api/#tag/load-balancer/operation/get-load-balancer (status)
export const BALANCER_STATE: Readonly<Record<string, BalancerState>> = {
  pending: 'pending',
  active: 'running',
};

/** Vultr's balancing algorithms and ours. */
export const ALGORITHM_NAMES: Readonly<Partial<Record<Algorithm, string>>> = {
  ROUND_ROBIN: 'roundrobin',
  LEAST_CONNECTIONS: 'leastconn',
};

/** why: Vultr bills by the hour up to the monthly price, which is reached at 672 hours (730 for GPU plans) */
const HOURS_PER_MONTH = 672;
const GPU_HOURS_PER_MONTH = 730;

export function toNodeState(i: Json): NodeState {
  const status = str(i.status) ?? '';
  if (status !== 'active') return NODE_STATE[status] ?? 'unknown';
  if (i.power_status === 'stopped') return 'stopped';
  if (i.server_status === 'installingbooting') return 'starting';
  return 'running';
}

export function toNode(i: Json, provider: string): Node {
  const id = str(i.id);
  if (!id) throw new MalformedResponseError('an instance without an id', { provider });
  const ip = (v: unknown) => {
    const s = str(v);
    return s && isIP(s) && s !== '0.0.0.0' && s !== '::' ? [s] : [];
  };
  const tags = strings(i.tags);
  return {
    id,
    name: str(i.label) ?? '',
    state: toNodeState(i),
    publicIps: [...ip(i.main_ip), ...ip(i.v6_main_ip)],
    privateIps: ip(i.internal_ip),
    sizeId: str(i.plan) ?? null,
    imageId: str(i.image_id) ?? (num(i.os_id) ? str(i.os_id)! : null),
    locationId: str(i.region) ?? null,
    createdAt: date(i.date_created),
    tags: tagsFromStrings(tags.length ? tags : strings([i.tag])),
    extra: {
      status: str(i.status) ?? null,
      powerStatus: str(i.power_status) ?? null,
      serverStatus: str(i.server_status) ?? null,
      os: str(i.os) ?? null,
      osId: num(i.os_id) ?? null,
      appId: num(i.app_id) ?? null,
      hostname: str(i.hostname) ?? null,
      ram: count(i.ram),
      disk: count(i.disk),
      vcpus: count(i.vcpu_count),
      allowedBandwidth: num(i.allowed_bandwidth) ?? null,
      v6Network: str(i.v6_network) ?? null,
      firewallGroupId: str(i.firewall_group_id) ?? null,
      features: strings(i.features),
      tagList: tags,
    },
  };
}

export function toImage(os: Json, provider: string): Image {
  const id = str(os.id);
  if (!id) throw new MalformedResponseError('an OS without an id', { provider });
  return { id, name: str(os.name) ?? id, extra: { arch: str(os.arch) ?? null, family: str(os.family) ?? null, owner: 'vultr' } };
}

export function toSize(p: Json, provider: string): Size {
  const id = str(p.id);
  if (!id) throw new MalformedResponseError('a plan without an id', { provider });
  const monthly = num(p.monthly_cost);
  const hours = str(p.type) === 'vcg' ? GPU_HOURS_PER_MONTH : HOURS_PER_MONTH;
  const hourly = num(p.hourly_cost) ?? (monthly === undefined ? undefined : Math.round((monthly / hours) * 1e6) / 1e6);
  return {
    id,
    name: id,
    ram: count(p.ram),
    disk: count(p.disk),
    bandwidth: null,
    price: hourly ?? null,
    extra: { vcpus: count(p.vcpu_count), type: str(p.type) ?? null, diskCount: num(p.disk_count) ?? null, bandwidthGb: num(p.bandwidth) ?? null, monthlyCost: monthly ?? null, locations: strings(p.locations) },
  };
}

export function toLocation(r: Json, provider: string): Location {
  const id = str(r.id);
  if (!id) throw new MalformedResponseError('a region without an id', { provider });
  const country = (str(r.country) ?? '').toUpperCase();
  return { id, name: str(r.city) ?? id, country: /^[A-Z]{2}$/.test(country) ? country : '', extra: { continent: str(r.continent) ?? null, options: strings(r.options) } };
}

/** The first forwarding rule is the balancer's port and protocol. */
export function toBalancer(lb: Json, provider: string): LoadBalancer {
  const id = str(lb.id);
  if (!id) throw new MalformedResponseError('a load balancer without an id', { provider });
  const rules = list(lb.forwarding_rules);
  const first = rules[0];
  const info = obj(lb.generic_info);
  const ip = str(lb.ipv4);
  return {
    id,
    name: str(lb.label) ?? '',
    state: BALANCER_STATE[str(lb.status) ?? ''] ?? 'unknown',
    ip: ip && isIP(ip) ? ip : null,
    port: num(first?.frontend_port) ?? null,
    protocol: str(first?.frontend_protocol) ?? null,
    algorithm: (Object.keys(ALGORITHM_NAMES) as Algorithm[]).find((a) => ALGORITHM_NAMES[a] === info?.balancing_algorithm) ?? null,
    extra: {
      status: str(lb.status) ?? null,
      region: str(lb.region) ?? null,
      ipv6: str(lb.ipv6) ?? null,
      backendPort: num(first?.backend_port) ?? null,
      forwardingRules: rules.map((r) => ({
        id: str(r.id) ?? null,
        frontendProtocol: str(r.frontend_protocol) ?? null,
        frontendPort: num(r.frontend_port) ?? null,
        backendProtocol: str(r.backend_protocol) ?? null,
        backendPort: num(r.backend_port) ?? null,
      })),
      instances: strings(lb.instances),
      hasSsl: lb.has_ssl === true,
      createdAt: str(lb.date_created) ?? null,
    },
  };
}

/** Attached instances are the members, on the first rule's backend port. */
export function toMembers(lb: Json): Member[] {
  const port = num(list(lb.forwarding_rules)[0]?.backend_port) ?? null;
  return strings(lb.instances).map((id) => ({ id, ip: null, port, nodeId: id, extra: {} }));
}
