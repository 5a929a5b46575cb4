/**
 * CloudSigma API 1.0 records -> models. A server record holds its VNC password
 * (`vnc:password`): extra is built from named fields so it never passes through.
 *
 * http://www.cloudsigma.com/legacy/cloudsigma-api-1-0/ (sections 7 and 8)
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../../errors.ts';
import type { Image, Node, NodeState } from '../../types.ts';
import { matchSize } from '../common.ts';
import { DRIVER_NAME, type KvRecord } from './api.ts';

/** Server `status` values of API 1.0. */
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  active: 'running',
  stopped: 'stopped',
  paused: 'paused',
  dumped: 'stopped',
  dead: 'error',
};

const GIB = 1024 ** 3;
/** `ide:0:0`, `scsi:0:1`, `block:0` ... : a device slot holding a drive uuid */
const DEVICE_SLOT = /^(ide|scsi|block|virtio):\d+(:\d+)?$/;

export function toNode(record: KvRecord, region: string | undefined): Node {
  const id = record.server;
  if (!id) throw new MalformedResponseError('a server record without "server" (its uuid)', { provider: DRIVER_NAME });
  const publicIps = new Set<string>();
  const nics: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(record)) {
    const nic = /^nic:(\d+):dhcp(:ip)?$/.exec(key);
    if (nic && isIP(value)) publicIps.add(value);
    const model = /^nic:(\d+):model$/.exec(key);
    if (model) {
      const n = model[1]!;
      nics.push({ index: Number(n), model: value, dhcp: record[`nic:${n}:dhcp`] ?? null, vlan: record[`nic:${n}:vlan`] ?? null, block: record[`nic:${n}:block`]?.split(/\s+/) ?? [] });
    }
  }
  const cpu = int(record.cpu);
  const smp = record.smp === undefined || record.smp === 'auto' ? undefined : int(record.smp);
  const mem = int(record.mem);
  const started = int(record.started);
  const status = record.status ?? 'unknown';
  return {
    id,
    name: record.name ?? '',
    state: NODE_STATE[status] ?? 'unknown',
    publicIps: [...publicIps],
    privateIps: [],
    sizeId: matchSize(cpu, smp, mem),
    imageId: null,
    locationId: region ?? null,
    createdAt: null,
    tags: {},
    extra: {
      status,
      cpuMhz: cpu,
      smp: record.smp === 'auto' ? 'auto' : (smp ?? null),
      memMib: mem,
      persistent: record.persistent === 'true',
      startedAt: started > 0 ? new Date(started * 1000).toISOString() : null,
      boot: record.boot ?? null,
      drives: attachedDrives(record),
      nics: nics.sort((a, b) => (a.index as number) - (b.index as number)),
      vncIp: isIP(record['vnc:ip'] ?? '') ? record['vnc:ip'] : null,
      user: record.user ?? null,
      rxBytes: record.rx !== undefined ? int(record.rx) : null,
      txBytes: record.tx !== undefined ? int(record.tx) : null,
    },
  };
}

/** A drive record (standard library or own) as an image. */
export function toImage(record: KvRecord): Image {
  const id = record.drive;
  if (!id) throw new MalformedResponseError('a drive record without "drive" (its uuid)', { provider: DRIVER_NAME });
  const size = int(record.size);
  return {
    id,
    name: record.name ?? '',
    extra: {
      type: record.type ?? null,
      driveType: record.drive_type ?? null,
      os: record.os ?? null,
      bits: record.bits ?? null,
      sizeBytes: size,
      sizeGb: Math.ceil(size / GIB),
      description: record.description ?? null,
      licenses: record.licenses?.split(/\s+/).filter(Boolean) ?? [],
      free: record.free === 'true',
      url: record.url ?? null,
    },
  };
}

/** Device slot -> drive uuid, disks and CD-ROMs alike (`<slot>:media` says which). */
export function attachedDrives(record: KvRecord): Record<string, { uuid: string; media: string }> {
  const out: Record<string, { uuid: string; media: string }> = {};
  for (const [key, value] of Object.entries(record)) {
    if (DEVICE_SLOT.test(key) && value) out[key] = { uuid: value, media: record[`${key}:media`] ?? 'disk' };
  }
  return out;
}

// --- Internal helpers ---

function int(v: string | undefined): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
}
