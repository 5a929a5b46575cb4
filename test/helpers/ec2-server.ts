/**
 * A recorded-response EC2 Query API server on 127.0.0.1 for the ec2 driver tests and bench.
 *
 * Every request is checked the way EC2 would: POST / form-encoded, a valid SigV4 signature
 * (service ec2; a wrong secret gets 401 AuthFailure), Version, a known Action, required and
 * allowed parameters. What fails a check is answered with an EC2 error and listed in `failures`.
 *
 * Answers come from fixtures/ec2: the recorded DescribeInstances/DescribeImages/DescribeKeyPairs
 * pages seed the state of `seedRegion`; instances launched later, generated instances (for
 * pagination and the 10,000-instance bench) and key pairs are rendered from fixtures/ec2/templates.
 * State moves like EC2's (pending -> running, stopping -> stopped, shutting-down -> terminated)
 * after `transitionMs`. The region of each request is the one its signature is scoped to.
 */
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { verifyNodeRequest } from './aws-verify.ts';
import { REPO_ROOT } from './replay-server.ts';

export const EC2_TEST_KEY_ID = 'AKIDSKYGRAPHEC2TEST';
export const EC2_TEST_SECRET = 'ec2-test-secret/9f8e7d6c5b4a39281706';
export const EC2_OWNER_ID = '210987654321';
const VERSION = '2016-11-15';
const XMLNS = `http://ec2.amazonaws.com/doc/${VERSION}/`;

export interface Ec2ServerOptions {
  /** access key id -> secret; default {EC2_TEST_KEY_ID: EC2_TEST_SECRET} */
  credentials?: Record<string, string>;
  /** region whose state starts from the recorded fixtures; default us-east-1 */
  seedRegion?: string;
  /** false starts every region empty */
  seed?: boolean;
  /** read-only instances generated into seedRegion's listing, before the recorded ones */
  generated?: number;
  /** the server's own page-size cap for DescribeInstances/DescribeImages (AWS may return fewer than MaxResults) */
  pageSize?: number;
  /** how long pending/stopping/shutting-down last (ms); default 100 */
  transitionMs?: number;
  /** regions that answer every request with 503 Unavailable */
  failingRegions?: string[];
}

/** One request as the server understood it. */
export interface Ec2Request {
  action: string;
  region: string;
  params: URLSearchParams;
  status: number;
  /** the access key id of a request whose signature checked out */
  accessKeyId?: string;
}

export interface Ec2Server {
  url: string;
  requests: Ec2Request[];
  /** requests that failed a check: wrong signature, unknown action or parameter, unsupported filter */
  failures: string[];
  /** answers the next `times` requests for `action` with this error instead */
  failNext(action: string, error: { status: number; code: string; message: string }, times?: number): void;
  /** instances launched through RunInstances, per region */
  launched(region: string): string[];
  close(): Promise<void>;
}

class Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (q: URLSearchParams, region: string) => string;

/** Allowed parameter names per action, and the ones that must be present. */
const SPEC: Record<string, { allowed: RegExp; required?: string[] }> = {
  DescribeInstances: { allowed: /^(MaxResults|NextToken|InstanceId\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeImages: { allowed: /^(MaxResults|NextToken|ImageId\.\d+|Owner\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeAvailabilityZones: { allowed: /^$/ },
  RunInstances: {
    allowed:
      /^(ImageId|InstanceType|MinCount|MaxCount|ClientToken|KeyName|UserData|SubnetId|PrivateIpAddress|EbsOptimized|Placement\.AvailabilityZone|SecurityGroupId\.\d+|SecurityGroup\.\d+|IamInstanceProfile\.(Arn|Name)|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/,
    required: ['ImageId', 'InstanceType', 'MinCount', 'MaxCount', 'ClientToken'],
  },
  StartInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  StopInstances: { allowed: /^(InstanceId\.\d+|Force)$/, required: ['InstanceId.1'] },
  RebootInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  TerminateInstances: { allowed: /^InstanceId\.\d+$/, required: ['InstanceId.1'] },
  DescribeKeyPairs: { allowed: /^(KeyName\.\d+|IncludePublicKey)$/ },
  CreateKeyPair: { allowed: /^(KeyName|KeyType|KeyFormat)$/, required: ['KeyName'] },
  ImportKeyPair: { allowed: /^(KeyName|PublicKeyMaterial)$/, required: ['KeyName', 'PublicKeyMaterial'] },
  DeleteKeyPair: { allowed: /^KeyName$/, required: ['KeyName'] },
  CreateTags: { allowed: /^(ResourceId\.\d+|Tag\.\d+\.(Key|Value))$/, required: ['ResourceId.1', 'Tag.1.Key'] },
  DeleteTags: { allowed: /^(ResourceId\.\d+|Tag\.\d+\.(Key|Value))$/, required: ['ResourceId.1'] },
  DescribeTags: { allowed: /^(MaxResults|NextToken|Filter\.\d+\.(Name|Value\.\d+))$/ },
  DescribeVolumes: { allowed: /^(MaxResults|NextToken|VolumeId\.\d+)$/ },
  CreateVolume: {
    allowed: /^(AvailabilityZone|Size|SnapshotId|VolumeType|ClientToken|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/,
    required: ['AvailabilityZone', 'ClientToken'],
  },
  AttachVolume: { allowed: /^(InstanceId|VolumeId|Device)$/, required: ['InstanceId', 'VolumeId', 'Device'] },
  DetachVolume: { allowed: /^(VolumeId|InstanceId|Device|Force)$/, required: ['VolumeId'] },
  DeleteVolume: { allowed: /^VolumeId$/, required: ['VolumeId'] },
  DescribeSnapshots: { allowed: /^(MaxResults|NextToken|SnapshotId\.\d+|Owner\.\d+|Filter\.\d+\.(Name|Value\.\d+))$/ },
  CreateSnapshot: { allowed: /^(VolumeId|Description|TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value)))$/, required: ['VolumeId'] },
  DeleteSnapshot: { allowed: /^SnapshotId$/, required: ['SnapshotId'] },
  CreateImage: { allowed: /^(InstanceId|Name|Description|NoReboot)$/, required: ['InstanceId', 'Name'] },
  DeregisterImage: { allowed: /^ImageId$/, required: ['ImageId'] },
};

const STATE_NAMES: Record<number, string> = { 0: 'pending', 16: 'running', 32: 'shutting-down', 48: 'terminated', 64: 'stopping', 80: 'stopped' };
const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const IMAGE_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

interface InstanceRecord {
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

interface VolumeRecord {
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

interface SnapshotRecord {
  id: string;
  volumeId: string;
  size: number;
  description: string;
  startTime: string;
  tags: Map<string, string>;
  status: Timed<string>;
}

/** A value that becomes `then` at `at`. */
interface Timed<T> {
  now: T;
  next?: { then: T; at: number } | undefined;
}

interface ImageRecord {
  id: string;
  ownerId: string;
  alias: string | undefined;
  name: string;
  isPublic: boolean;
  xml: () => string;
}

interface KeyRecord {
  name: string;
  xml: (withPublicKey: boolean) => string;
}

interface RegionState {
  instances: Map<string, InstanceRecord>;
  keys: Map<string, KeyRecord>;
  volumes: Map<string, VolumeRecord>;
  snapshots: Map<string, SnapshotRecord>;
  tokens: Map<string, { id: string; fingerprint: string }>;
  launched: string[];
}

export async function startEc2Server(opts: Ec2ServerOptions = {}): Promise<Ec2Server> {
  const secrets = opts.credentials ?? { [EC2_TEST_KEY_ID]: EC2_TEST_SECRET };
  const seedRegion = opts.seedRegion ?? 'us-east-1';
  const transitionMs = opts.transitionMs ?? 100;
  const pageCap = opts.pageSize ?? Infinity;
  const requests: Ec2Request[] = [];
  const failures: string[] = [];
  const injected: { action: string; error: { status: number; code: string; message: string }; left: number }[] = [];
  const regions = new Map<string, RegionState>();
  const images: ImageRecord[] = topItems(fixture('describe-images.xml'), 'imagesSet').map((xml) => ({
    id: field(xml, 'imageId')!,
    ownerId: field(xml, 'imageOwnerId')!,
    alias: field(xml, 'imageOwnerAlias'),
    name: field(xml, 'name') ?? '',
    isPublic: field(xml, 'isPublic') === 'true',
    xml: () => xml,
  }));
  const imageTpl = template('templates/image.xml');
  const volumeTpl = template('templates/volume.xml');
  const attachmentTpl = template('templates/volume-attachment.xml');
  const snapshotTpl = template('templates/snapshot.xml');
  const volumeTokens = new Map<string, string>();
  let serial = 0;
  const later = <T>(now: T, then: T): Timed<T> => ({ now, next: { then, at: Date.now() + transitionMs } });
  const current = <T>(t: Timed<T>): T => {
    if (t.next && Date.now() >= t.next.at) {
      t.now = t.next.then;
      t.next = undefined;
    }
    return t.now;
  };
  const instanceTpl = template('templates/instance.xml');
  const reservationTpl = template('templates/reservation.xml');
  const keyTpl = template('templates/key-pair.xml');
  const errorTpl = template('templates/error.xml');
  const zonesTpl = template('describe-availability-zones.xml');
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

  const codeOf = (rec: InstanceRecord): number => {
    if (rec.next && Date.now() >= rec.next.at) {
      rec.code = rec.next.code;
      rec.next = undefined;
    }
    return rec.code;
  };
  const renderInstance = (rec: InstanceRecord): string => {
    const code = codeOf(rec);
    const tags = [...rec.tags].map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('');
    const devices = [...rec.devices].map(([device, volumeId]) => `<item><deviceName>${device}</deviceName><ebs><volumeId>${volumeId}</volumeId><status>attached</status></ebs></item>`).join('');
    const middle = devices ? rec.parts[1].replace(/<blockDeviceMapping\/>|<\/blockDeviceMapping>/, (m) => `${m === '<blockDeviceMapping/>' ? '<blockDeviceMapping>' : ''}${devices}</blockDeviceMapping>`) : rec.parts[1];
    return `${rec.parts[0]}<instanceState><code>${code}</code><name>${STATE_NAMES[code]}</name></instanceState>${middle}<tagSet>${tags}</tagSet>${rec.parts[2]}`;
  };
  const findInstances = (state: RegionState, q: URLSearchParams): InstanceRecord[] =>
    numbered(q, 'InstanceId').map((id) => {
      if (!INSTANCE_ID.test(id)) throw new Fault(400, 'InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      const rec = state.instances.get(id);
      if (!rec) throw new Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return rec;
    });
  const move = (action: string, state: RegionState, q: URLSearchParams, rule: (code: number) => [number, number?] | undefined) => {
    const recs = findInstances(state, q);
    const changes = recs.map((rec) => {
      const before = codeOf(rec);
      const step = rule(before);
      if (!step) throw new Fault(400, 'IncorrectInstanceState', `The instance '${rec.id}' is not in a state from which it can be ${action}.`);
      const [now, then] = step;
      rec.code = now;
      rec.next = then === undefined ? undefined : { code: then, at: Date.now() + transitionMs };
      return `<item><instanceId>${rec.id}</instanceId><currentState><code>${now}</code><name>${STATE_NAMES[now]}</name></currentState><previousState><code>${before}</code><name>${STATE_NAMES[before]}</name></previousState></item>`;
    });
    return `<instancesSet>${changes.join('')}</instancesSet>`;
  };

  const handlers: Record<string, Handler> = {
    DescribeInstances(q, name) {
      const state = region(name);
      const ids = numbered(q, 'InstanceId');
      if (ids.length && q.has('MaxResults')) throw new Fault(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      let wanted: Set<string> | undefined = ids.length ? new Set(findInstances(state, q).map((r) => r.id)) : undefined;
      for (const filter of filters(q)) {
        if (filter.name !== 'instance-id') throw unsupported(`DescribeInstances filter ${filter.name}`);
        wanted = new Set(filter.values.filter((v) => !wanted || wanted.has(v)));
      }
      const all: (string | InstanceRecord)[] = [...(name === seedRegion ? generatedIds : []), ...state.instances.values()];
      const selected = wanted ? all.filter((x) => wanted.has(typeof x === 'string' ? x : x.id)) : all;
      const { slice, nextToken } = paginate(q, selected);
      const reservations: string[] = [];
      let group: string[] = [];
      let current: { reservationId: string; ownerId: string } | undefined;
      const flush = () => current && reservations.push(reservationTpl({ ...current, instancesXml: group.join('') }));
      for (const x of slice) {
        const rec = typeof x === 'string' ? generatedInstance(x) : { ...x, xml: renderInstance(x) };
        if (rec.reservationId !== current?.reservationId) {
          flush();
          current = { reservationId: rec.reservationId, ownerId: rec.ownerId };
          group = [];
        }
        group.push(rec.xml);
      }
      flush();
      return `<reservationSet>${reservations.join('')}</reservationSet>${nextToken}`;
    },
    DescribeImages(q) {
      const ids = numbered(q, 'ImageId');
      if (ids.length && q.has('MaxResults')) throw new Fault(400, 'InvalidParameterCombination', 'The parameter ImageIds cannot be used with the parameter MaxResults');
      const owners = numbered(q, 'Owner');
      const list = filters(q);
      if (!ids.length && !owners.length && !list.some((f) => f.name === 'image-id')) {
        failures.push('DescribeImages without Owner, ImageId or an image-id filter asks for the whole public catalogue');
      }
      for (const id of ids) {
        if (!IMAGE_ID.test(id)) throw new Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
        if (!images.some((i) => i.id === id)) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      }
      const selected = images.filter(
        (image) =>
          (image.isPublic || image.ownerId === EC2_OWNER_ID) &&
          (!ids.length || ids.includes(image.id)) &&
          (!owners.length || owners.some((o) => (o === 'self' ? image.ownerId === EC2_OWNER_ID : o === image.ownerId || o === image.alias))) &&
          list.every((f) => {
            if (f.name === 'image-id') return f.values.includes(image.id);
            if (f.name === 'name') return f.values.some((v) => glob(v).test(image.name));
            throw unsupported(`DescribeImages filter ${f.name}`);
          }),
      );
      const { slice, nextToken } = paginate(q, selected);
      return `<imagesSet>${slice.map((i) => i.xml()).join('')}</imagesSet>${nextToken}`;
    },
    DescribeAvailabilityZones(_q, name) {
      const xml = zonesTpl({ requestId: randomUUID(), region: name, zoneIdPrefix: name.split('-').map((p, i) => (i === 0 ? p : p[0])).join('') });
      return /<availabilityZoneInfo>[\s\S]*<\/availabilityZoneInfo>/.exec(xml)![0];
    },
    RunInstances(q, name) {
      const state = region(name);
      const token = q.get('ClientToken')!;
      const fingerprint = [...q].filter(([k]) => !['Action', 'Version', 'ClientToken'].includes(k)).sort().join('&');
      const earlier = state.tokens.get(token);
      if (earlier && earlier.fingerprint !== fingerprint) {
        throw new Fault(400, 'IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
      }
      if (!earlier) state.tokens.set(token, { id: launch(q, name, state), fingerprint });
      const rec = state.instances.get(state.tokens.get(token)!.id)!;
      return `<reservationId>${rec.reservationId}</reservationId><ownerId>${EC2_OWNER_ID}</ownerId><groupSet/><instancesSet>${renderInstance(rec)}</instancesSet>`;
    },
    StartInstances: (q, name) => move('started', region(name), q, (c) => (c === 80 ? [0, 16] : c === 0 || c === 16 ? [c] : undefined)),
    StopInstances: (q, name) => move('stopped', region(name), q, (c) => (c === 16 || c === 0 ? [64, 80] : c === 64 || c === 80 ? [c] : undefined)),
    TerminateInstances: (q, name) => move('terminated', region(name), q, (c) => (c === 48 ? [48] : c === 32 ? [32] : [32, 48])),
    RebootInstances(q, name) {
      for (const rec of findInstances(region(name), q)) {
        if (codeOf(rec) !== 16) throw new Fault(400, 'IncorrectInstanceState', `The instance '${rec.id}' is not in a state from which it can be rebooted.`);
      }
      return '<return>true</return>';
    },
    DescribeKeyPairs(q, name) {
      const state = region(name);
      const withKey = q.get('IncludePublicKey') === 'true';
      const names = numbered(q, 'KeyName');
      for (const n of names) if (!state.keys.has(n)) throw new Fault(400, 'InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
      const keys = [...state.keys.values()].filter((k) => !names.length || names.includes(k.name));
      return `<keySet>${keys.map((k) => k.xml(withKey)).join('')}</keySet>`;
    },
    CreateKeyPair(q, name) {
      const keyName = newKeyName(region(name), q.get('KeyName')!);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const parsed = ssh2.utils.parseKey(pem);
      if (parsed instanceof Error) throw parsed;
      const fingerprint = colonHex(createHash('sha1').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest());
      const id = addKey(region(name), keyName, 'rsa', fingerprint, `ssh-rsa ${parsed.getPublicSSH().toString('base64')}`);
      return `<keyName>${esc(keyName)}</keyName><keyFingerprint>${fingerprint}</keyFingerprint><keyMaterial>${esc(pem.trim())}</keyMaterial><keyPairId>${id}</keyPairId>`;
    },
    ImportKeyPair(q, name) {
      const keyName = newKeyName(region(name), q.get('KeyName')!);
      const line = Buffer.from(q.get('PublicKeyMaterial')!, 'base64').toString('utf8').trim();
      const m = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) ([A-Za-z0-9+/]+={0,2})(\s|$)/.exec(line);
      if (!m) throw new Fault(400, 'InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
      const blob = Buffer.from(m[2]!, 'base64');
      const fingerprint = m[1] === 'ssh-rsa' ? colonHex(createHash('md5').update(blob).digest()) : createHash('sha256').update(blob).digest('base64');
      const id = addKey(region(name), keyName, m[1] === 'ssh-rsa' ? 'rsa' : m[1]!.replace('ssh-', ''), fingerprint, `${m[1]} ${m[2]}`);
      return `<keyName>${esc(keyName)}</keyName><keyFingerprint>${fingerprint}</keyFingerprint><keyPairId>${id}</keyPairId>`;
    },
    DeleteKeyPair(q, name) {
      region(name).keys.delete(q.get('KeyName')!);
      return '<return>true</return>';
    },
    CreateTags(q, name) {
      const recs = tagTargets(region(name), q);
      for (let i = 1; q.has(`Tag.${i}.Key`); i++) for (const rec of recs) rec.tags.set(q.get(`Tag.${i}.Key`)!, q.get(`Tag.${i}.Value`) ?? '');
      return '<return>true</return>';
    },
    DeleteTags(q, name) {
      const recs = tagTargets(region(name), q);
      for (let i = 1; q.has(`Tag.${i}.Key`); i++) for (const rec of recs) rec.tags.delete(q.get(`Tag.${i}.Key`)!);
      return '<return>true</return>';
    },
    DescribeTags(q, name) {
      let recs = [...region(name).instances.values()];
      for (const f of filters(q)) {
        if (f.name !== 'resource-id') throw unsupported(`DescribeTags filter ${f.name}`);
        recs = recs.filter((r) => f.values.includes(r.id));
      }
      const rows = recs.flatMap((r) => [...r.tags].map(([k, v]) => ({ r, k, v })));
      const { slice, nextToken } = paginate(q, rows);
      const xml = slice.map(({ r, k, v }) => `<item><resourceId>${r.id}</resourceId><resourceType>instance</resourceType><key>${esc(k)}</key><value>${esc(v)}</value></item>`);
      return `<tagSet>${xml.join('')}</tagSet>${nextToken}`;
    },
    DescribeVolumes(q, name) {
      const state = region(name);
      const ids = numbered(q, 'VolumeId');
      for (const id of ids) findVolume(state, id);
      const all = [...state.volumes.values()].filter((v) => volumeStatus(state, v) !== undefined && (!ids.length || ids.includes(v.id)));
      const { slice, nextToken } = paginate(q, all);
      return `<volumeSet>${slice.map((v) => renderVolume(state, v)).join('')}</volumeSet>${nextToken}`;
    },
    CreateVolume(q, name) {
      const state = region(name);
      const token = q.get('ClientToken')!;
      const earlier = volumeTokens.get(token);
      if (earlier && state.volumes.has(earlier)) return unwrap(renderVolume(state, state.volumes.get(earlier)!));
      const zone = q.get('AvailabilityZone')!;
      if (!new RegExp(`^${name}[abc]$`).test(zone)) throw new Fault(400, 'InvalidParameterValue', `Invalid availability zone: [${zone}]`);
      const snapshotId = q.get('SnapshotId') ?? '';
      const snapshot = snapshotId ? state.snapshots.get(snapshotId) : undefined;
      if (snapshotId && !snapshot) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
      const size = Number(q.get('Size') ?? snapshot?.size ?? NaN);
      if (!Number.isInteger(size) || size < 1 || size > 16384) throw new Fault(400, 'InvalidParameterValue', 'The parameter Size must be between 1 and 16384');
      const id = `vol-0a${hex(++serial, 15)}`;
      const rec: VolumeRecord = { id, zone, size, snapshotId, createTime: new Date().toISOString(), volumeType: q.get('VolumeType') ?? 'gp2', iops: String(Math.max(100, size * 3)), encrypted: 'false', tags: specTags(q, 'volume'), status: later('creating', 'available') };
      state.volumes.set(id, rec);
      volumeTokens.set(token, id);
      return unwrap(renderVolume(state, rec));
    },
    AttachVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const [instance] = findInstances(state, new URLSearchParams({ 'InstanceId.1': q.get('InstanceId')! }));
      const device = q.get('Device')!;
      if (volumeStatus(state, volume) !== 'available') throw new Fault(400, 'IncorrectState', `${volume.id} is not 'available'.`);
      if (![16, 80].includes(codeOf(instance!))) throw new Fault(400, 'IncorrectInstanceState', `Instance '${instance!.id}' is not 'running' or 'stopped'.`);
      if (volume.zone !== field(instance!.parts[1], 'availabilityZone')) throw new Fault(400, 'InvalidVolume.ZoneMismatch', 'The volume is not in the same availability zone as the instance');
      const used = [...`${instance!.parts[1]}`.matchAll(/<deviceName>([^<]*)<\/deviceName>/g)].map((m) => m[1]!.replace('/dev/xvd', '/dev/sd'));
      if (used.includes(device.replace('/dev/xvd', '/dev/sd')) || instance!.devices.has(device)) throw new Fault(400, 'InvalidParameterValue', `Attachment point ${device} is already in use`);
      volume.status = { now: 'in-use' };
      volume.attachment = { instanceId: instance!.id, device, attachTime: new Date().toISOString(), status: later('attaching', 'attached') };
      instance!.devices.set(device, volume.id);
      return unwrap(attachmentTpl({ volumeId: volume.id, instanceId: instance!.id, device, status: 'attaching', attachTime: volume.attachment.attachTime }));
    },
    DetachVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const att = volume.attachment;
      if (!att || current(att.status) === 'detaching') throw new Fault(400, 'IncorrectState', `Volume '${volume.id}' is in the '${volumeStatus(state, volume)}' state.`);
      att.status = later('detaching', 'detached');
      return unwrap(attachmentTpl({ volumeId: volume.id, instanceId: att.instanceId, device: att.device, status: 'detaching', attachTime: att.attachTime }));
    },
    DeleteVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const status = volumeStatus(state, volume);
      if (status === 'in-use') throw new Fault(400, 'VolumeInUse', `Volume ${volume.id} is currently attached to ${volume.attachment?.instanceId}`);
      if (status !== 'deleting') volume.status = later('deleting', 'deleted');
      return '<return>true</return>';
    },
    DescribeSnapshots(q, name) {
      const state = region(name);
      const ids = numbered(q, 'SnapshotId');
      for (const id of ids) if (!state.snapshots.has(id)) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      if (!ids.length && !numbered(q, 'Owner').includes('self')) failures.push('DescribeSnapshots without Owner self or SnapshotId lists every public snapshot');
      let all = [...state.snapshots.values()].filter((s) => !ids.length || ids.includes(s.id));
      for (const f of filters(q)) {
        if (f.name !== 'volume-id') throw unsupported(`DescribeSnapshots filter ${f.name}`);
        all = all.filter((snap) => f.values.includes(snap.volumeId));
      }
      const { slice, nextToken } = paginate(q, all);
      return `<snapshotSet>${slice.map(renderSnapshot).join('')}</snapshotSet>${nextToken}`;
    },
    CreateSnapshot(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const id = `snap-0a${hex(++serial, 15)}`;
      const rec: SnapshotRecord = { id, volumeId: volume.id, size: volume.size, description: q.get('Description') ?? '', startTime: new Date().toISOString(), tags: specTags(q, 'snapshot'), status: later('pending', 'completed') };
      state.snapshots.set(id, rec);
      return unwrap(renderSnapshot(rec));
    },
    DeleteSnapshot(q, name) {
      const state = region(name);
      const id = q.get('SnapshotId')!;
      if (!state.snapshots.delete(id)) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      return '<return>true</return>';
    },
    CreateImage(q, name) {
      const [instance] = findInstances(region(name), new URLSearchParams({ 'InstanceId.1': q.get('InstanceId')! }));
      const imageName = q.get('Name')!;
      if (images.some((i) => i.ownerId === EC2_OWNER_ID && i.name === imageName)) throw new Fault(400, 'InvalidAMIName.Duplicate', `AMI name ${imageName} is already in use by an AMI`);
      const id = `ami-0e${hex(++serial, 15)}`;
      const status = later('pending', 'available');
      const vars = { imageId: id, ownerId: EC2_OWNER_ID, name: imageName, description: q.get('Description') ?? '', instanceId: instance!.id, snapshotId: `snap-0e${hex(serial, 15)}`, creationDate: new Date().toISOString(), architecture: field(instance!.parts[1], 'architecture') ?? 'x86_64' };
      images.push({ id, ownerId: EC2_OWNER_ID, alias: undefined, name: imageName, isPublic: false, xml: () => imageTpl({ ...vars, state: current(status) }) });
      return `<imageId>${id}</imageId>`;
    },
    DeregisterImage(q) {
      const id = q.get('ImageId')!;
      const at = images.findIndex((i) => i.id === id && i.ownerId === EC2_OWNER_ID);
      if (at === -1) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      images.splice(at, 1);
      return '<return>true</return>';
    },
  };

  function launch(q: URLSearchParams, name: string, state: RegionState): string {
    const imageId = q.get('ImageId')!;
    if (!IMAGE_ID.test(imageId)) throw new Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!images.some((i) => i.id === imageId)) throw new Fault(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(q.get('InstanceType')!)) throw new Fault(400, 'InvalidParameterValue', `Invalid value '${q.get('InstanceType')}' for InstanceType.`);
    if (q.get('MinCount') !== '1' || q.get('MaxCount') !== '1') throw unsupported('RunInstances with MinCount/MaxCount other than 1');
    const keyName = q.get('KeyName');
    if (keyName !== null && !state.keys.has(keyName)) throw new Fault(400, 'InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
    const zone = q.get('Placement.AvailabilityZone') ?? `${name}a`;
    if (!new RegExp(`^${name}[abc]$`).test(zone)) throw new Fault(400, 'InvalidParameterValue', `Invalid availability zone: [${zone}]`);
    const userData = q.get('UserData');
    if (userData !== null && Buffer.from(userData, 'base64').toString('base64') !== userData) throw new Fault(400, 'InvalidUserData.Malformed', 'User data must be base64 encoded.');
    const n = state.launched.length + 1;
    const id = `i-0f${hex(n, 15)}`;
    const groups = [...numbered(q, 'SecurityGroupId').map((g) => [g, g] as const), ...numbered(q, 'SecurityGroup').map((g) => [`sg-0e${hex(n, 15)}`, g] as const)];
    const xml = instanceTpl({
      ...instanceVars(id, n, { imageId, instanceType: q.get('InstanceType')!, zone, region: name, publicIp: undefined }),
      subnetId: q.get('SubnetId') ?? 'subnet-0defa017000000001',
      keyNameXml: keyName === null ? '' : `<keyName>${esc(keyName)}</keyName>`,
      groupsXml: groups.map(([gid, gname]) => `<item><groupId>${esc(gid)}</groupId><groupName>${esc(gname)}</groupName></item>`).join(''),
      clientToken: q.get('ClientToken')!,
      launchTime: new Date().toISOString().replace(/\.\d+Z$/, '.000Z'),
    });
    const rec = toRecord(xml, `r-0f${hex(n, 15)}`, EC2_OWNER_ID);
    for (let i = 1; q.has(`TagSpecification.1.Tag.${i}.Key`); i++) rec.tags.set(q.get(`TagSpecification.1.Tag.${i}.Key`)!, q.get(`TagSpecification.1.Tag.${i}.Value`) ?? '');
    rec.code = 0;
    rec.next = { code: 16, at: Date.now() + transitionMs };
    state.instances.set(id, rec);
    state.launched.push(id);
    return id;
  }

  function generatedInstance(id: string): { reservationId: string; ownerId: string; xml: string } {
    const i = Number.parseInt(id.slice(2), 16) - 1;
    const imageIds = ['ami-0c1d2e3f4a5b6c7d8', 'ami-0123456789abcdef1', 'ami-0d2e3f4a5b6c7d8e9', 'ami-0f9e8d7c6b5a49382'];
    const types = ['t3.micro', 't3.small', 't4g.medium', 'm5.large', 'm6i.xlarge', 'c6i.large', 'r6i.large', 'c5.2xlarge'];
    const stopped = i % 10 === 9;
    const vars = instanceVars(id, i, {
      imageId: imageIds[i % imageIds.length]!,
      instanceType: types[i % types.length]!,
      zone: `${seedRegion}${'abc'[i % 3]}`,
      region: seedRegion,
      publicIp: stopped || i % 2 === 1 ? undefined : `54.${160 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`,
    });
    const xml = instanceTpl({
      ...vars,
      stateCode: stopped ? '80' : '16',
      stateName: stopped ? 'stopped' : 'running',
      subnetId: `subnet-0a${hex(i % 3, 15)}`,
      keyNameXml: '<keyName>deploy-2024</keyName>',
      groupsXml: '<item><groupId>sg-0f1e2d3c4b5a69781</groupId><groupName>web</groupName></item>',
      clientToken: '',
      tagsXml: `<item><key>Name</key><value>node-${i}</value></item><item><key>env</key><value>${i % 3 === 0 ? 'prod' : 'dev'}</value></item>`,
      launchTime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    });
    return { reservationId: `r-0b${hex(i >> 2, 15)}`, ownerId: EC2_OWNER_ID, xml };
  }

  function findVolume(state: RegionState, id: string): VolumeRecord {
    if (!/^vol-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new Fault(400, 'InvalidVolumeID.Malformed', `Invalid id: "${id}" (expecting "vol-...")`);
    const volume = state.volumes.get(id);
    if (!volume || volumeStatus(state, volume) === undefined) throw new Fault(400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    return volume;
  }

  /** the volume's status after due transitions; undefined once it is gone */
  function volumeStatus(state: RegionState, volume: VolumeRecord): string | undefined {
    if (volume.attachment && current(volume.attachment.status) === 'detached') {
      state.instances.get(volume.attachment.instanceId)?.devices.delete(volume.attachment.device);
      volume.attachment = undefined;
      volume.status = { now: 'available' };
    }
    const status = current(volume.status);
    if (status !== 'deleted') return status;
    state.volumes.delete(volume.id);
    return undefined;
  }

  function renderVolume(state: RegionState, v: VolumeRecord): string {
    const status = volumeStatus(state, v) ?? 'deleted';
    const att = v.attachment;
    const attachmentsXml = att ? attachmentTpl({ volumeId: v.id, instanceId: att.instanceId, device: att.device, status: current(att.status), attachTime: att.attachTime }) : '';
    return volumeTpl({ volumeId: v.id, size: String(v.size), snapshotId: v.snapshotId, zone: v.zone, status, createTime: v.createTime, volumeType: v.volumeType, iops: v.iops, encrypted: v.encrypted, attachmentsXml, tagsXml: tagsXml(v.tags) });
  }

  function renderSnapshot(s: SnapshotRecord): string {
    const status = current(s.status);
    return snapshotTpl({ snapshotId: s.id, volumeId: s.volumeId, status, startTime: s.startTime, progress: status === 'completed' ? '100%' : '0%', ownerId: EC2_OWNER_ID, size: String(s.size), description: s.description, tagsXml: tagsXml(s.tags) });
  }

  function addKey(state: RegionState, name: string, keyType: string, fingerprint: string, publicKey: string): string {
    const keyPairId = `key-0${hex(state.keys.size + 1, 16)}`;
    const base = { keyPairId, keyType, keyName: name, fingerprint, createTime: new Date().toISOString() };
    state.keys.set(name, { name, xml: (withKey) => keyTpl({ ...base, publicKeyXml: withKey ? `<publicKey>${esc(publicKey)}</publicKey>` : '' }) });
    return keyPairId;
  }

  function tagTargets(state: RegionState, q: URLSearchParams): InstanceRecord[] {
    return numbered(q, 'ResourceId').map((id) => {
      if (!id.startsWith('i-')) throw unsupported(`tags on ${id} (only instances are simulated)`);
      const rec = state.instances.get(id);
      if (!rec) throw new Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return rec;
    });
  }

  function unsupported(what: string): Fault {
    failures.push(`unsupported by the test server: ${what}`);
    return new Fault(400, 'InvalidParameterValue', `The test server does not simulate ${what}`);
  }

  function paginate<T>(q: URLSearchParams, all: readonly T[]): { slice: T[]; nextToken: string } {
    const max = q.get('MaxResults');
    if (max !== null && !(/^\d+$/.test(max) && +max >= 5 && +max <= 1000)) throw new Fault(400, 'InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
    const token = q.get('NextToken');
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString().replace(/^offset:/, ''));
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw new Fault(400, 'InvalidParameterValue', 'The pagination token is invalid.');
    const size = Math.min(max === null ? Infinity : +max, pageCap);
    const end = Math.min(all.length, start + size);
    return { slice: all.slice(start, end), nextToken: end < all.length ? `<nextToken>${Buffer.from(`offset:${end}`).toString('base64url')}</nextToken>` : '' };
  }

  function newKeyName(state: RegionState, name: string): string {
    if (state.keys.has(name)) throw new Fault(400, 'InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    return name;
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(req, Buffer.concat(chunks), res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function respond(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const q = new URLSearchParams(body.toString('utf8'));
    const action = q.get('Action') ?? '';
    const regionName = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const entry: Ec2Request = { action, region: regionName, params: q, status: 200 };
    requests.push(entry);
    const send = (status: number, xml: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
    };
    const fail = (status: number, code: string, message: string, failure?: string) => {
      if (failure !== undefined) failures.push(`${action || '(no action)'}: ${failure}`);
      send(status, errorTpl({ code, message, requestId: randomUUID() }));
    };
    if (req.method !== 'POST' || (req.url ?? '/') !== '/') return fail(400, 'InvalidAction', 'Use POST /', `${req.method} ${req.url} instead of POST /`);
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return fail(400, 'InvalidParameterValue', 'form body expected', 'body is not form-encoded');
    const verified = verifyNodeRequest(req, body, (id) => secrets[id], new Date(), { service: 'ec2' });
    if (!verified.ok) return fail(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', `signature rejected: ${verified.reason}`);
    entry.accessKeyId = verified.accessKeyId;
    if (q.get('Version') !== VERSION) return fail(400, 'InvalidParameterValue', 'unsupported Version', `Version ${q.get('Version')} is not ${VERSION}`);
    const spec = SPEC[action];
    const handler = handlers[action];
    if (!spec || !handler) return fail(400, 'InvalidAction', `The action ${action} is not valid for this web service.`, 'unknown action');
    const unknown = [...q.keys()].filter((k) => k !== 'Action' && k !== 'Version' && !spec.allowed.test(k));
    if (unknown.length) return fail(400, 'UnknownParameter', `The parameter ${unknown[0]} is not recognized`, `unknown parameters ${unknown.join(', ')}`);
    const missing = (spec.required ?? []).filter((k) => !q.get(k));
    if (missing.length) return fail(400, 'MissingParameter', `The request must contain the parameter ${missing[0]}`, `missing ${missing.join(', ')}`);
    if (opts.failingRegions?.includes(regionName)) return fail(503, 'Unavailable', 'The service is unavailable. Please try again shortly.');
    const slot = injected.find((i) => i.action === action && i.left > 0);
    if (slot) {
      slot.left--;
      return fail(slot.error.status, slot.error.code, slot.error.message);
    }
    try {
      send(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${randomUUID()}</requestId>${handler(q, regionName)}</${action}Response>`);
    } catch (err) {
      if (err instanceof Fault) return fail(err.status, err.code, err.message);
      fail(500, 'InternalError', 'An internal error has occurred', `server error ${String(err)}`);
    }
  }

  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    failures,
    failNext: (action, error, times = 1) => void injected.push({ action, error, left: times }),
    launched: (name) => [...(regions.get(name)?.launched ?? [])],
    close: () =>
      new Promise<void>((ok, bad) => {
        server.close((err) => (err ? bad(err) : ok()));
        for (const s of sockets) s.destroy();
      }),
  };
}

// --- Internal helpers ---

function fixture(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'fixtures', 'ec2', name), 'utf8');
}

/** A `{{name}}` template; values are XML-escaped unless the name ends in `Xml`. */
function template(name: string): (vars: Record<string, string | undefined>) => string {
  const parts = fixture(name).split(/\{\{(\w+)\}\}/);
  return (vars) => {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) {
      const key = parts[i]!;
      const value = vars[key];
      if (value === undefined) throw new Error(`template ${name}: no value for ${key}`);
      out += (key.endsWith('Xml') ? value : esc(value)) + parts[i + 1]!;
    }
    return out;
  };
}

/** The top-level `<item>` elements of the first `<container>` in `xml`, as text. */
function topItems(xml: string, container: string): string[] {
  const start = xml.indexOf(`<${container}>`);
  if (start === -1) return [];
  const out: string[] = [];
  const tags = /<(\/?)item>|<\/([A-Za-z]+)>/g;
  tags.lastIndex = start;
  let depth = 0;
  let from = 0;
  for (let m = tags.exec(xml); m; m = tags.exec(xml)) {
    if (m[2] === container && depth === 0) break;
    if (m[2] !== undefined) continue;
    if (m[1] === '') {
      if (depth++ === 0) from = m.index;
    } else if (--depth === 0) out.push(xml.slice(from, m.index + m[0].length));
  }
  return out;
}

function field(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

function toRecord(xml: string, reservationId: string, ownerId: string): InstanceRecord {
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
function unwrap(item: string): string {
  return item.trim().replace(/^<item>/, '').replace(/<\/item>$/, '');
}

/** Tags of the first tagSet in `xml`. */
function tagMap(xml: string): Map<string, string> {
  const tags = /<tagSet>[\s\S]*?<\/tagSet>/.exec(xml)?.[0] ?? '';
  return new Map([...tags.matchAll(/<key>([^<]*)<\/key>\s*<value>([^<]*)<\/value>/g)].map((m) => [unesc(m[1]!), unesc(m[2]!)]));
}

function tagsXml(tags: Map<string, string>): string {
  return [...tags].map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join('');
}

/** Tags from `TagSpecification.1` when it is for `resourceType`. */
function specTags(q: URLSearchParams, resourceType: string): Map<string, string> {
  const tags = new Map<string, string>();
  if (q.get('TagSpecification.1.ResourceType') !== resourceType) return tags;
  for (let i = 1; q.has(`TagSpecification.1.Tag.${i}.Key`); i++) tags.set(q.get(`TagSpecification.1.Tag.${i}.Key`)!, q.get(`TagSpecification.1.Tag.${i}.Value`) ?? '');
  return tags;
}

function instanceVars(id: string, n: number, v: { imageId: string; instanceType: string; zone: string; region: string; publicIp: string | undefined }) {
  const privateIp = `10.${20 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
  const privateDnsName = `ip-${privateIp.replaceAll('.', '-')}.${v.region === 'us-east-1' ? 'ec2.internal' : `${v.region}.compute.internal`}`;
  const publicIp = v.publicIp;
  return {
    instanceId: id,
    imageId: v.imageId,
    instanceType: v.instanceType,
    zone: v.zone,
    stateCode: '0',
    stateName: 'pending',
    tagsXml: '',
    privateIp,
    privateDnsName,
    publicDnsName: publicIp ? `ec2-${publicIp.replaceAll('.', '-')}.compute-1.amazonaws.com` : '',
    publicIpXml: publicIp ? `<ipAddress>${publicIp}</ipAddress>` : '',
    associationXml: publicIp ? `<association><publicIp>${publicIp}</publicIp><ipOwnerId>amazon</ipOwnerId></association>` : '',
    vpcId: 'vpc-0b1c2d3e4f5a69788',
    architecture: v.instanceType.startsWith('t4g') ? 'arm64' : 'x86_64',
    volumeId: `vol-0c${hex(n, 15)}`,
    eniId: `eni-0c${hex(n, 15)}`,
    attachmentId: `eni-attach-0c${hex(n, 15)}`,
    ownerId: EC2_OWNER_ID,
  };
}

function generatedId(i: number): string {
  return `i-${hex(i + 1, 17)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** `Name.1`, `Name.2`, ... in order */
function numbered(q: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; q.has(`${name}.${i}`); i++) out.push(q.get(`${name}.${i}`)!);
  return out;
}

function filters(q: URLSearchParams): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; q.has(`Filter.${i}.Name`); i++) out.push({ name: q.get(`Filter.${i}.Name`)!, values: numbered(q, `Filter.${i}.Value`) });
  return out;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
}

function colonHex(buf: Buffer): string {
  return [...buf].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unesc(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
