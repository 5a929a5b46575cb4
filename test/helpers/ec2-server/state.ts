/** The simulated EC2 state: records per region, seeded from the recorded fixtures, and timed transitions. */
import type { Ec2ServerOptions } from './index.ts';
import { paginate } from './pagination.ts';
import { Fault } from './routing.ts';
import { field, fixture, generatedId, tagMap, topItems, unesc } from './xml.ts';

export const STATE_NAMES: Record<number, string> = { 0: 'pending', 16: 'running', 32: 'shutting-down', 48: 'terminated', 64: 'stopping', 80: 'stopped' };
export const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const IMAGE_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

export interface InstanceRecord {
  id: string;
  reservationId: string;
  ownerId: string;
  /** the item around its instanceState and tagSet */
  parts: [string, string, string];
  tags: Map<string, string>;
  code: number;
  next?: { code: number; at: number } | undefined;
  /** volumes attached through AttachVolume: device -> volume id */
  devices: Map<string, string>;
}

export interface VolumeRecord {
  id: string;
  zone: string;
  size: number;
  snapshotId: string;
  createTime: string;
  volumeType: string;
  iops: string;
  encrypted: string;
  tags: Map<string, string>;
  status: Timed<string>;
  attachment?: { instanceId: string; device: string; attachTime: string; status: Timed<string> } | undefined;
}

export interface SnapshotRecord {
  id: string;
  volumeId: string;
  size: number;
  description: string;
  startTime: string;
  tags: Map<string, string>;
  status: Timed<string>;
}

/** A value that becomes `then` at `at`. */
export interface Timed<T> {
  now: T;
  next?: { then: T; at: number } | undefined;
}

export interface ImageRecord {
  id: string;
  ownerId: string;
  alias: string | undefined;
  name: string;
  isPublic: boolean;
  /** the only region that has it (made by CreateImage or CopyImage); the catalogue is in every region */
  region?: string;
  xml: () => string;
}

export interface KeyRecord {
  name: string;
  xml: (withPublicKey: boolean) => string;
}

export interface RegionState {
  instances: Map<string, InstanceRecord>;
  keys: Map<string, KeyRecord>;
  volumes: Map<string, VolumeRecord>;
  snapshots: Map<string, SnapshotRecord>;
  tokens: Map<string, { id: string; fingerprint: string }>;
  launched: string[];
}

/** What every group of handlers shares: options, regions, images and helpers. */
export interface Ec2Sim {
  seedRegion: string;
  transitionMs: number;
  regions: Map<string, RegionState>;
  /** the state of a region, created (and seeded, for seedRegion) on first use */
  region(name: string): RegionState;
  images: ImageRecord[];
  /** ids of the read-only instances generated into seedRegion's listing */
  generatedIds: string[];
  failures: string[];
  /** a new number for ids of created volumes, snapshots and images */
  nextSerial(): number;
  later<T>(now: T, then: T): Timed<T>;
  current<T>(t: Timed<T>): T;
  /** records a failure and returns the error to throw for something the server does not simulate */
  unsupported(what: string): Fault;
  paginate<T>(q: URLSearchParams, all: readonly T[]): { slice: T[]; nextToken: string };
}

export function createSim(opts: Ec2ServerOptions, failures: string[]): Ec2Sim {
  const seedRegion = opts.seedRegion ?? 'us-east-1';
  const transitionMs = opts.transitionMs ?? 100;
  const pageCap = opts.pageSize ?? Infinity;
  const regions = new Map<string, RegionState>();
  const images: ImageRecord[] = topItems(fixture('describe-images.xml'), 'imagesSet').map((xml) => ({
    id: field(xml, 'imageId')!,
    ownerId: field(xml, 'imageOwnerId')!,
    alias: field(xml, 'imageOwnerAlias'),
    name: field(xml, 'name') ?? '',
    isPublic: field(xml, 'isPublic') === 'true',
    xml: () => xml,
  }));
  let serial = 0;
  const later = <T>(now: T, then: T): Timed<T> => ({ now, next: { then, at: Date.now() + transitionMs } });
  const current = <T>(t: Timed<T>): T => {
    if (t.next && Date.now() >= t.next.at) {
      t.now = t.next.then;
      t.next = undefined;
    }
    return t.now;
  };
  const generatedIds = Array.from({ length: opts.generated ?? 0 }, (_, i) => generatedId(i));

  const region = (name: string): RegionState => {
    let state = regions.get(name);
    if (state) return state;
    state = { instances: new Map(), keys: new Map(), volumes: new Map(), snapshots: new Map(), tokens: new Map(), launched: [] };
    if (opts.seed !== false && name === seedRegion) {
      for (const reservation of topItems(fixture('describe-instances.xml'), 'reservationSet')) {
        for (const xml of topItems(reservation, 'instancesSet')) {
          const rec = toRecord(xml, field(reservation, 'reservationId')!, field(reservation, 'ownerId')!);
          state.instances.set(rec.id, rec);
        }
      }
      for (const xml of topItems(fixture('describe-key-pairs.xml'), 'keySet')) {
        const name = field(xml, 'keyName')!;
        state.keys.set(name, { name, xml: (withKey) => (withKey ? xml : xml.replace(/\s*<publicKey>[^<]*<\/publicKey>/, '')) });
      }
      for (const xml of topItems(fixture('describe-volumes.xml'), 'volumeSet')) {
        const [att] = topItems(xml, 'attachmentSet');
        const attachment = att === undefined ? undefined : { instanceId: field(att, 'instanceId')!, device: field(att, 'device')!, attachTime: field(att, 'attachTime')!, status: { now: field(att, 'status')! } };
        const id = field(xml, 'volumeId')!;
        const fields = { zone: field(xml, 'availabilityZone')!, size: Number(field(xml, 'size')), snapshotId: field(xml, 'snapshotId') ?? '', createTime: field(xml, 'createTime')! };
        const kind = { volumeType: field(xml, 'volumeType')!, iops: field(xml, 'iops')!, encrypted: field(xml, 'encrypted')! };
        state.volumes.set(id, { id, ...fields, ...kind, tags: tagMap(xml), status: { now: field(xml, 'status')! }, attachment });
      }
      for (const xml of topItems(fixture('describe-snapshots.xml'), 'snapshotSet')) {
        const id = field(xml, 'snapshotId')!;
        const fields = { volumeId: field(xml, 'volumeId')!, size: Number(field(xml, 'volumeSize')), description: field(xml, 'description') ?? '', startTime: field(xml, 'startTime')! };
        state.snapshots.set(id, { id, ...fields, tags: tagMap(xml), status: { now: field(xml, 'status')! } });
      }
    }
    regions.set(name, state);
    return state;
  };

  return {
    seedRegion,
    transitionMs,
    regions,
    region,
    images,
    generatedIds,
    failures,
    nextSerial: () => ++serial,
    later,
    current,
    unsupported(what) {
      failures.push(`unsupported by the test server: ${what}`);
      return new Fault(400, 'InvalidParameterValue', `The test server does not simulate ${what}`);
    },
    paginate: (q, all) => paginate(q, all, pageCap),
  };
}

export function toRecord(xml: string, reservationId: string, ownerId: string): InstanceRecord {
  const state = /<instanceState>[\s\S]*?<\/instanceState>/.exec(xml)!;
  const rest = xml.slice(state.index + state[0].length);
  const tags = /<tagSet>[\s\S]*?<\/tagSet>|<tagSet\/>/.exec(rest)!;
  const map = new Map<string, string>();
  for (const m of tags[0].matchAll(/<key>([^<]*)<\/key>\s*<value>([^<]*)<\/value>/g)) map.set(unesc(m[1]!), unesc(m[2]!));
  return {
    id: field(xml, 'instanceId')!,
    reservationId,
    ownerId,
    parts: [xml.slice(0, state.index), rest.slice(0, tags.index), rest.slice(tags.index + tags[0].length)],
    tags: map,
    code: Number(field(state[0], 'code')),
    devices: new Map(),
  };
}

/** The content of an `<item>` template: what CreateVolume, AttachVolume and friends answer at their top level. */
