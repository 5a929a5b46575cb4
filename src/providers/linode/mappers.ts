/**
 * Linode API v4 JSON -> models.
 *
 * https://techdocs.akamai.com/linode-api/reference/get-linode-instances
 * https://techdocs.akamai.com/linode-api/reference/get-linode-types
 * https://techdocs.akamai.com/linode-api/reference/get-images
 * https://techdocs.akamai.com/linode-api/reference/get-regions
 * https://techdocs.akamai.com/linode-api/reference/get-node-balancers
 */
import { isIP, isIPv4 } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import { count, date, num, obj, str, strings, type Json } from '../rest/json.ts';
import { tagsFromStrings } from '../rest/tags.ts';
import type { Algorithm, Image, LoadBalancer, Location, Member, Node, NodeState, Size } from '../types.ts';

// https://techdocs.akamai.com/linode-api/reference/get-linode-instance (status)
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  running: 'running',
  offline: 'stopped',
  stopped: 'stopped',
  booting: 'starting',
  rebooting: 'rebooting',
  shutting_down: 'stopping',
  provisioning: 'pending',
  deleting: 'pending',
  migrating: 'migrating',
  rebuilding: 'pending',
  cloning: 'pending',
  restoring: 'pending',
  resizing: 'reconfiguring',
  billing_suspension: 'suspended',
};

/** NodeBalancer config algorithms and ours. */
export const ALGORITHM_NAMES: Readonly<Partial<Record<Algorithm, string>>> = {
  ROUND_ROBIN: 'roundrobin',
  LEAST_CONNECTIONS: 'leastconn',
  SOURCE_IP: 'source',
};

/** Linode's private IPv4 range (192.168.128.0/17), the only addresses NodeBalancers send to. */
export function isLinodePrivate(ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const [a, b, c = 0] = ip.split('.').map(Number);
  return a === 192 && b === 168 && c >= 128;
}

export function toNode(l: Json, provider: string): Node {
  const id = str(l.id);
  if (!id) throw new MalformedResponseError('a Linode without an id', { provider });
  const v4 = strings(l.ipv4).filter((ip) => isIP(ip) !== 0);
  const v6 = str(l.ipv6)?.split('/')[0];
  const specs = obj(l.specs);
  return {
    id,
    name: str(l.label) ?? '',
    state: NODE_STATE[str(l.status) ?? ''] ?? 'unknown',
    publicIps: [...v4.filter((ip) => !isRfc1918(ip)), ...(v6 && isIP(v6) ? [v6] : [])],
    privateIps: v4.filter(isRfc1918),
    sizeId: str(l.type) ?? null,
    imageId: str(l.image) ?? null,
    locationId: str(l.region) ?? null,
    createdAt: date(l.created),
    tags: tagsFromStrings(strings(l.tags)),
    extra: {
      status: str(l.status) ?? null,
      group: str(l.group) ?? null,
      hypervisor: str(l.hypervisor) ?? null,
      vcpus: count(specs?.vcpus),
      memory: count(specs?.memory),
      disk: count(specs?.disk),
      transfer: count(specs?.transfer),
      watchdogEnabled: l.watchdog_enabled === true,
      backupsEnabled: obj(l.backups)?.enabled === true,
      updatedAt: str(l.updated) ?? null,
      tagList: strings(l.tags),
    },
  };
}

export function toImage(i: Json, provider: string): Image {
  const id = str(i.id);
  if (!id) throw new MalformedResponseError('an image without an id', { provider });
  const createdBy = str(i.created_by);
  return {
    id,
    name: str(i.label) ?? id,
    extra: {
      vendor: str(i.vendor) ?? null,
      // why: Linode's own images are created by "linode"; anything else is the account's
      owner: createdBy === 'linode' ? 'linode' : 'self',
      createdBy: createdBy ?? null,
      isPublic: i.is_public === true,
      type: str(i.type) ?? null,
      status: str(i.status) ?? null,
      deprecated: i.deprecated === true,
      sizeMb: num(i.size) ?? null,
      description: str(i.description) ?? null,
      createdAt: str(i.created) ?? null,
      eol: str(i.eol) ?? null,
    },
  };
}

export function toSize(t: Json, provider: string): Size {
  const id = str(t.id);
  if (!id) throw new MalformedResponseError('a type without an id', { provider });
  const price = obj(t.price);
  return {
    id,
    name: str(t.label) ?? id,
    ram: count(t.memory),
    // why: Linode gives disk in MB
    disk: Math.round(count(t.disk) / 1024),
    bandwidth: num(t.network_out) ?? null,
    price: num(price?.hourly) ?? null,
    extra: { class: str(t.class) ?? null, vcpus: count(t.vcpus), gpus: count(t.gpus), transferGb: num(t.transfer) ?? null, priceMonthly: num(price?.monthly) ?? null, successor: str(t.successor) ?? null },
  };
}

export function toLocation(r: Json, provider: string): Location {
  const id = str(r.id);
  if (!id) throw new MalformedResponseError('a region without an id', { provider });
  const country = (str(r.country) ?? '').toUpperCase();
  return {
    id,
    name: str(r.label) ?? id,
    // why: ISO 3166 says GB where Linode may say uk
    country: country === 'UK' ? 'GB' : /^[A-Z]{2}$/.test(country) ? country : '',
    extra: { status: str(r.status) ?? null, capabilities: strings(r.capabilities), siteType: str(r.site_type) ?? null },
  };
}

/** A NodeBalancer; port, protocol and algorithm come from its first config when given. */
export function toBalancer(nb: Json, config: Json | undefined, provider: string): LoadBalancer {
  const id = str(nb.id);
  if (!id) throw new MalformedResponseError('a NodeBalancer without an id', { provider });
  const ip = str(nb.ipv4);
  const algorithm = (Object.keys(ALGORITHM_NAMES) as Algorithm[]).find((a) => ALGORITHM_NAMES[a] === config?.algorithm) ?? null;
  return {
    id,
    name: str(nb.label) ?? '',
    // why: NodeBalancers have no status; one the API lists is serving
    state: 'running',
    ip: ip && isIP(ip) ? ip : null,
    port: num(config?.port) ?? null,
    protocol: str(config?.protocol) ?? null,
    algorithm,
    extra: {
      region: str(nb.region) ?? null,
      hostname: str(nb.hostname) ?? null,
      ipv6: str(nb.ipv6) ?? null,
      clientConnThrottle: num(nb.client_conn_throttle) ?? null,
      tags: strings(nb.tags),
      configId: str(config?.id) ?? null,
      createdAt: str(nb.created) ?? null,
    },
  };
}

/** A config's node; its id is `<configId>:<nodeId>`, since a node is removed through its config. */
export function toMember(n: Json, configId: string): Member {
  const address = str(n.address) ?? '';
  const at = address.lastIndexOf(':');
  const ip = at > 0 ? address.slice(0, at) : address;
  const port = at > 0 ? Number(address.slice(at + 1)) : NaN;
  return {
    id: `${configId}:${str(n.id) ?? ''}`,
    ip: isIP(ip) ? ip : null,
    port: Number.isInteger(port) && port > 0 ? port : null,
    nodeId: null,
    extra: { label: str(n.label) ?? null, status: str(n.status) ?? null, mode: str(n.mode) ?? null, weight: num(n.weight) ?? null, configId },
  };
}

export function firstConfig(configs: Json[]): Json | undefined {
  return [...configs].sort((a, b) => (num(a.id) ?? 0) - (num(b.id) ?? 0))[0];
}

// --- Internal helpers ---

function isRfc1918(ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
