/**
 * Hetzner Cloud API v1 JSON -> models. Prices are Hetzner's own, in EUR (gross, per hour).
 *
 * https://docs.hetzner.cloud/reference/cloud#servers
 * https://docs.hetzner.cloud/reference/cloud#server-types
 * https://docs.hetzner.cloud/reference/cloud#images
 * https://docs.hetzner.cloud/reference/cloud#locations
 * https://docs.hetzner.cloud/reference/cloud#load-balancers
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import { count, date, list, num, obj, str, type Json } from '../rest/json.ts';
import type { Algorithm, Image, LoadBalancer, Location, Member, Node, NodeState, Size } from '../types.ts';

// https://docs.hetzner.cloud/reference/cloud#servers-get-a-server (status)
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  initializing: 'pending',
  starting: 'starting',
  running: 'running',
  stopping: 'stopping',
  off: 'stopped',
  deleting: 'pending',
  migrating: 'migrating',
  rebuilding: 'pending',
  unknown: 'unknown',
};

/** Hetzner's two balancing algorithms and ours. */
export const ALGORITHM_NAMES: Readonly<Partial<Record<Algorithm, string>>> = {
  ROUND_ROBIN: 'round_robin',
  LEAST_CONNECTIONS: 'least_connections',
};

export function toNode(s: Json, provider: string): Node {
  const id = str(s.id);
  if (!id) throw new MalformedResponseError('a server without an id', { provider });
  const publicNet = obj(s.public_net);
  const v4 = str(obj(publicNet?.ipv4)?.ip);
  // why: Hetzner gives the server's IPv6 network (2001:db8::/64); its first address (::1) is the server's
  const v6net = str(obj(publicNet?.ipv6)?.ip);
  const v6 = v6net?.endsWith('::/64') ? `${v6net.slice(0, -3)}1` : undefined;
  const privateIps = list(s.private_net).map((n) => str(n.ip)).filter((ip): ip is string => ip !== undefined && isIP(ip) !== 0);
  const datacenter = obj(s.datacenter);
  const serverType = obj(s.server_type);
  const image = obj(s.image);
  return {
    id,
    name: str(s.name) ?? '',
    state: NODE_STATE[str(s.status) ?? ''] ?? 'unknown',
    publicIps: [v4, v6].filter((ip): ip is string => ip !== undefined && isIP(ip) !== 0),
    privateIps,
    sizeId: str(serverType?.name) ?? null,
    imageId: str(image?.id) ?? null,
    locationId: str(obj(datacenter?.location)?.name) ?? null,
    createdAt: date(s.created),
    tags: labels(s.labels),
    extra: {
      status: str(s.status) ?? null,
      datacenter: str(datacenter?.name) ?? null,
      serverTypeId: str(serverType?.id) ?? null,
      cores: count(serverType?.cores),
      imageName: str(image?.name) ?? null,
      ipv6Network: v6net ?? null,
      locked: s.locked === true,
      rescueEnabled: s.rescue_enabled === true,
      deleteProtection: obj(s.protection)?.delete === true,
      primaryDiskSize: num(s.primary_disk_size) ?? null,
      volumes: (Array.isArray(s.volumes) ? s.volumes : []).map(String),
      loadBalancers: (Array.isArray(s.load_balancers) ? s.load_balancers : []).map(String),
    },
  };
}

export function toImage(i: Json, provider: string): Image {
  const id = str(i.id);
  if (!id) throw new MalformedResponseError('an image without an id', { provider });
  const type = str(i.type);
  return {
    id,
    name: str(i.name) ?? str(i.description) ?? '',
    extra: {
      type: type ?? null,
      status: str(i.status) ?? null,
      // why: system and app images are Hetzner's; snapshots and backups belong to the project
      owner: type === 'system' || type === 'app' ? 'hetzner' : 'self',
      description: str(i.description) ?? null,
      osFlavor: str(i.os_flavor) ?? null,
      osVersion: str(i.os_version) ?? null,
      architecture: str(i.architecture) ?? null,
      diskSize: num(i.disk_size) ?? null,
      imageSize: num(i.image_size) ?? null,
      deprecated: str(i.deprecated) ?? null,
      boundTo: str(i.bound_to) ?? null,
      createdAt: str(i.created) ?? null,
      labels: labels(i.labels),
    },
  };
}

/** `price` is the lowest gross hourly price over the locations; every location's is in extra. */
export function toSize(t: Json, provider: string): Size {
  const name = str(t.name);
  if (!name) throw new MalformedResponseError('a server type without a name', { provider });
  const prices: Record<string, { hourly: number | null; monthly: number | null }> = {};
  for (const p of list(t.prices)) {
    const location = str(p.location);
    if (location) prices[location] = { hourly: num(obj(p.price_hourly)?.gross) ?? null, monthly: num(obj(p.price_monthly)?.gross) ?? null };
  }
  const hourly = Object.values(prices).map((p) => p.hourly).filter((p): p is number => p !== null);
  return {
    id: name,
    name: str(t.description) ?? name,
    // why: Hetzner gives memory in GB (a float, 0.5 for the smallest types)
    ram: Math.round((num(t.memory) ?? 0) * 1024),
    disk: count(t.disk),
    bandwidth: null,
    price: hourly.length ? Math.min(...hourly) : null,
    extra: {
      id: str(t.id) ?? null,
      cores: count(t.cores),
      cpuType: str(t.cpu_type) ?? null,
      architecture: str(t.architecture) ?? null,
      storageType: str(t.storage_type) ?? null,
      deprecated: t.deprecated === true || obj(t.deprecation) !== undefined,
      currency: 'EUR',
      prices,
    },
  };
}

export function toLocation(l: Json, datacenters: Json[], provider: string): Location {
  const name = str(l.name);
  if (!name) throw new MalformedResponseError('a location without a name', { provider });
  return {
    id: name,
    name: str(l.description) ?? name,
    country: (str(l.country) ?? '').toUpperCase(),
    extra: {
      id: str(l.id) ?? null,
      city: str(l.city) ?? null,
      networkZone: str(l.network_zone) ?? null,
      datacenters: datacenters.filter((d) => str(obj(d.location)?.name) === name).map((d) => str(d.name)).filter((n): n is string => n !== undefined),
    },
  };
}

/** The first service is the balancer's port and protocol. Hetzner balancers have no status: a listed one runs. */
export function toBalancer(lb: Json, provider: string): LoadBalancer {
  const id = str(lb.id);
  if (!id) throw new MalformedResponseError('a load balancer without an id', { provider });
  const services = list(lb.services);
  const first = services[0];
  const publicNet = obj(lb.public_net);
  const ip = str(obj(publicNet?.ipv4)?.ip);
  const type = str(obj(lb.algorithm)?.type);
  return {
    id,
    name: str(lb.name) ?? '',
    state: 'running',
    ip: ip && isIP(ip) ? ip : null,
    port: num(first?.listen_port) ?? null,
    protocol: str(first?.protocol) ?? null,
    algorithm: (Object.keys(ALGORITHM_NAMES) as Algorithm[]).find((a) => ALGORITHM_NAMES[a] === type) ?? null,
    extra: {
      location: str(obj(lb.location)?.name) ?? null,
      loadBalancerType: str(obj(lb.load_balancer_type)?.name) ?? null,
      ipv6: str(obj(publicNet?.ipv6)?.ip) ?? null,
      publicInterface: publicNet?.enabled !== false,
      services: services.map((s) => ({
        protocol: str(s.protocol) ?? null,
        listenPort: num(s.listen_port) ?? null,
        destinationPort: num(s.destination_port) ?? null,
        proxyprotocol: s.proxyprotocol === true,
      })),
      targetCount: list(lb.targets).length,
      labels: labels(lb.labels),
      createdAt: str(lb.created) ?? null,
    },
  };
}

/** Targets as members: a server target's id is the server id, an IP target's its address. */
export function toMembers(lb: Json): Member[] {
  const port = num(list(lb.services)[0]?.destination_port) ?? null;
  const members: Member[] = [];
  for (const t of list(lb.targets)) {
    const health = list(t.health_status).map((h) => ({ listenPort: num(h.listen_port) ?? null, status: str(h.status) ?? null }));
    if (t.type === 'server') {
      const id = str(obj(t.server)?.id);
      if (id) members.push({ id, ip: null, port, nodeId: id, extra: { type: 'server', usePrivateIp: t.use_private_ip === true, health } });
    } else if (t.type === 'ip') {
      const ip = str(obj(t.ip)?.ip);
      if (ip && isIP(ip)) members.push({ id: ip, ip, port, nodeId: null, extra: { type: 'ip', health } });
    } else if (t.type === 'label_selector') {
      const selector = str(obj(t.label_selector)?.selector);
      if (selector) members.push({ id: `label_selector=${selector}`, ip: null, port, nodeId: null, extra: { type: 'label_selector', selector } });
    }
  }
  return members;
}

export function labels(v: unknown): Record<string, string> {
  const o = obj(v) ?? {};
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
