/**
 * CloudSigma API 2.0 JSON -> models. Servers never carry their VNC password out, key pairs never
 * their private key.
 *
 * https://cloudsigma-docs.readthedocs.io/en/latest/servers.html
 * https://cloudsigma-docs.readthedocs.io/en/latest/libdrives.html
 * https://cloudsigma-docs.readthedocs.io/en/latest/keypairs.html
 * https://cloudsigma-docs.readthedocs.io/en/latest/tags.html
 */
import { isIP } from 'node:net';
import { InvalidInputError, MalformedResponseError } from '../../errors.ts';
import { list, num, obj } from '../../rest/json.ts';
import type { Image, KeyPair, Node, NodeState } from '../../types.ts';
import { matchSize, type UnitRates } from '../common.ts';
import { DRIVER_NAME, type Json } from './api.ts';

/** https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#server-state-diagram */
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  running: 'running',
  starting: 'starting',
  stopping: 'stopping',
  stopped: 'stopped',
  paused: 'paused',
  unavailable: 'unknown',
};

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A non-empty string (numbers are not ids here), else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `objects` of a list or create answer; MalformedResponseError when it is not there. */
export function objects(body: unknown, operation: string): Json[] {
  const items = obj(body)?.objects;
  if (!Array.isArray(items)) throw new MalformedResponseError(`${operation} answered without an objects list`, { provider: DRIVER_NAME });
  return list(items);
}

export function uuidOf(o: Json | undefined, what: string): string {
  const id = str(o?.uuid);
  if (!id) throw new MalformedResponseError(`${what} without a uuid`, { provider: DRIVER_NAME });
  return id;
}

export function toNode(server: Json, tagNames: ReadonlyMap<string, string>, region: string | undefined): Node {
  const id = uuidOf(server, 'server');
  const publicIps = new Set<string>();
  const privateIps = new Set<string>();
  const runtime = obj(server.runtime);
  for (const nic of list(runtime?.nics)) {
    const into = nic.interface_type === 'private' ? privateIps : publicIps;
    for (const ip of [str(obj(nic.ip_v4)?.uuid), str(obj(nic.ip_v6)?.uuid)]) if (ip && isIP(ip)) into.add(ip);
  }
  for (const nic of list(server.nics)) {
    // why: a static IP is known before the server runs; DHCP ones only from the runtime
    const ip = str(obj(obj(nic.ip_v4_conf)?.ip)?.uuid);
    if (ip && isIP(ip) && !privateIps.has(ip)) publicIps.add(ip);
  }
  const cpu = num(server.cpu) ?? 0;
  const smp = num(server.smp);
  const memMib = Math.round((num(server.mem) ?? 0) / MIB);
  const tagIds = (Array.isArray(server.tags) ? server.tags : []).map((t) => (typeof t === 'string' ? t : str(obj(t)?.uuid))).filter((t): t is string => !!t);
  const status = str(server.status) ?? 'unknown';
  return {
    id,
    name: str(server.name) ?? '',
    state: NODE_STATE[status] ?? 'unknown',
    publicIps: [...publicIps],
    privateIps: [...privateIps],
    sizeId: matchSize(cpu, smp, memMib),
    imageId: null,
    locationId: region ?? null,
    createdAt: null,
    tags: tagsRecord(tagIds.map((t) => tagNames.get(t)).filter((n): n is string => n !== undefined)),
    extra: {
      status,
      cpuMhz: cpu,
      smp: smp ?? null,
      memMib,
      drives: list(server.drives).map((d) => ({
        uuid: str(obj(d.drive)?.uuid) ?? null,
        device: str(d.device) ?? null,
        devChannel: str(d.dev_channel) ?? null,
        bootOrder: num(d.boot_order) ?? null,
      })),
      tagIds,
      pubkeys: (Array.isArray(server.pubkeys) ? server.pubkeys : []).map((k) => (typeof k === 'string' ? k : str(obj(k)?.uuid))).filter(Boolean),
      meta: stringMap(obj(server.meta)),
      activeSince: str(runtime?.active_since) ?? null,
      owner: str(obj(server.owner)?.uuid) ?? null,
    },
  };
}

/** A library drive as an image. */
export function toImage(drive: Json): Image {
  const size = num(drive.size) ?? 0;
  return {
    id: uuidOf(drive, 'library drive'),
    name: str(drive.name) ?? '',
    extra: {
      os: str(drive.os) ?? null,
      arch: str(drive.arch) ?? null,
      media: str(drive.media) ?? null,
      imageType: str(drive.image_type) ?? null,
      sizeBytes: size,
      sizeGb: Math.ceil(size / GIB),
      description: str(drive.description) ?? null,
      paid: drive.paid === true,
      licenses: list(drive.licenses).map((l) => str(obj(l.license)?.name) ?? str(l.name)).filter(Boolean),
      category: Array.isArray(drive.category) ? drive.category.filter((c) => typeof c === 'string') : [],
      url: str(drive.url) ?? null,
    },
  };
}

export function toKeyPair(k: Json): KeyPair {
  return {
    name: str(k.name) ?? '',
    fingerprint: str(k.fingerprint) ?? null,
    publicKey: str(k.public_key) ?? null,
    extra: { uuid: uuidOf(k, 'key pair') },
  };
}

/**
 * CloudSigma tags are names. A tag `key=value` is the node tag key -> value; any other name is
 * key -> ''. The reverse is `tagName`.
 */
export function tagsRecord(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const at = name.indexOf('=');
    if (at > 0) out[name.slice(0, at)] = name.slice(at + 1);
    else out[name] = '';
  }
  return out;
}

export function tagName(key: string, value: string): string {
  if (key === '' || key.includes('=')) throw new InvalidInputError('a tag key must be non-empty and hold no "="', { provider: DRIVER_NAME, field: `tags.${key}` });
  return value === '' ? key : `${key}=${value}`;
}

/**
 * The account's price per unit in USD at its current price level (`current`), level 0 where the
 * answer names none; undefined when the answer has no USD cpu, mem and dssd prices.
 * https://cloudsigma-docs.readthedocs.io/en/latest/pricing.html
 */
export function toUnitRates(body: unknown): UnitRates | undefined {
  const current = obj(obj(body)?.current) ?? {};
  const price = (resource: string): number | undefined => {
    const level = num(current[resource]) ?? 0;
    const rows = list(obj(body)?.objects).filter((o) => o.resource === resource && o.currency === 'USD');
    const row = rows.find((o) => num(o.level) === level) ?? rows.find((o) => num(o.level) === 0);
    return num(row?.price);
  };
  const cpu = price('cpu');
  const mem = price('mem');
  const disk = price('dssd');
  return cpu !== undefined && mem !== undefined && disk !== undefined ? { cpuGhzHour: cpu, memGbHour: mem, diskGbMonth: disk } : undefined;
}

// --- Internal helpers ---

function stringMap(o: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // why: user data and keys live in meta; they are configuration, but user data can hold secrets
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'string' && k !== 'cloudinit-user-data') out[k] = v;
  return out;
}
