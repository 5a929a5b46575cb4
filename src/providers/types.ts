/**
 * The driver contract: provider-neutral models and the four service interfaces
 * (compute, storage, load balancer, DNS) every provider implements.
 *
 * Vocabulary follows Apache Libcloud (Node, NodeImage, NodeSize, ...), shapes follow
 * unstorage: a small required core, optional methods, declared capabilities, and
 * provider-only operations under `ex`.
 */
import type { ConnectionDefaults } from './http/connection.ts';
import type { Readable } from 'node:stream';

/** Libcloud's NodeState values. */
export const NODE_STATES = [
  'running',
  'starting',
  'rebooting',
  'terminated',
  'pending',
  'stopping',
  'stopped',
  'suspended',
  'error',
  'paused',
  'reconfiguring',
  'migrating',
  'normal',
  'updating',
  'unknown',
] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Load-balancer states (Libcloud's `State`, as strings). */
export const BALANCER_STATES = ['running', 'pending', 'unknown', 'error', 'deleted'] as const;
export type BalancerState = (typeof BALANCER_STATES)[number];

/** Balancing algorithms every driver maps to its own names, or rejects. */
export const ALGORITHMS = [
  'RANDOM',
  'ROUND_ROBIN',
  'LEAST_CONNECTIONS',
  'WEIGHTED_ROUND_ROBIN',
  'WEIGHTED_LEAST_CONNECTIONS',
  'SOURCE_IP',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** Libcloud's StorageVolumeState values. */
export const VOLUME_STATES = ['available', 'creating', 'attaching', 'inuse', 'deleting', 'deleted', 'error', 'backup', 'migrating', 'updating', 'unknown'] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

/** Libcloud's VolumeSnapshotState values. */
export const SNAPSHOT_STATES = ['available', 'creating', 'deleting', 'restoring', 'error', 'updating', 'unknown'] as const;
export type SnapshotState = (typeof SNAPSHOT_STATES)[number];

export const SERVICES = ['COMPUTE', 'STORAGE', 'LOADBALANCER', 'DNS'] as const;
export type Service = (typeof SERVICES)[number];

/** Provider-specific data, exposed as the JSON scalar `extra`. Never holds credentials. */
export type Extra = Record<string, unknown>;

/** A compute instance. `sizeId`/`imageId`/`locationId` are resolved to objects by the loaders. */
export interface Node {
  id: string;
  name: string;
  state: NodeState;
  publicIps: string[];
  privateIps: string[];
  sizeId: string | null;
  imageId: string | null;
  locationId: string | null;
  createdAt: Date | null;
  /** the provider's key/value labels: EC2 tags, Nova server metadata */
  tags: Record<string, string>;
  extra: Extra;
}

export interface Image {
  id: string;
  name: string;
  extra: Extra;
}

export interface Size {
  id: string;
  name: string;
  /** MiB */
  ram: number;
  /** GB */
  disk: number;
  /** Mbit/s or provider units; null when unknown */
  bandwidth: number | null;
  /** USD per hour; null when unknown */
  price: number | null;
  extra: Extra;
}

export interface Location {
  id: string;
  name: string;
  /** ISO 3166 alpha-2 where known */
  country: string;
  extra: Extra;
}

export interface Container {
  name: string;
  /** null when the provider does not report it cheaply */
  objectCount: number | null;
  /** null when the provider does not report it cheaply */
  bytes: number | null;
  extra: Extra;
}

export interface StorageObject {
  container: string;
  name: string;
  size: number;
  /** MD5 hex or the provider's ETag, without quotes */
  hash: string | null;
  contentType: string | null;
  lastModified: Date | null;
  metadata: Record<string, string>;
  extra: Extra;
}

export interface LoadBalancer {
  id: string;
  name: string;
  state: BalancerState;
  ip: string | null;
  port: number | null;
  protocol: string | null;
  algorithm: Algorithm | null;
  extra: Extra;
}

export interface Member {
  id: string;
  ip: string | null;
  port: number | null;
  /** native id of the compute node behind this member, when known */
  nodeId: string | null;
  extra: Extra;
}

export interface CreateNodeInput {
  name: string;
  sizeId: string;
  imageId: string;
  locationId?: string | undefined;
  /** public key to install, when the provider supports it */
  sshKey?: string | undefined;
  keyName?: string | undefined;
  userData?: string | undefined;
  /** idempotency token; drivers that support it pass it upstream */
  clientToken?: string | undefined;
  /** key/value labels for the node (EC2 tags, OpenStack server metadata); they win over the same keys in `ex` */
  tags?: Record<string, string> | undefined;
  /** provider-only parameters (security groups, subnets, networks, metadata...) */
  ex?: Record<string, unknown> | undefined;
}

export interface ImageFilter {
  owner?: string | undefined;
  name?: string | undefined;
  ids?: string[] | undefined;
}

export interface Volume {
  id: string;
  name: string;
  size: number;
  state: VolumeState;
  extra: Extra;
}

export interface VolumeSnapshot {
  id: string;
  name: string | null;
  size: number;
  state: SnapshotState;
  createdAt: Date | null;
  extra: Extra;
}

export interface KeyPair {
  name: string;
  fingerprint: string | null;
  publicKey: string | null;
  /** only returned by createKeyPair, never stored or listed */
  privateKey?: string | undefined;
  extra: Extra;
}

/**
 * Compute service. `listNodes`, `listImages`, `listSizes`, `listLocations`, `createNode` and
 * `destroyNode` are required; everything else is optional and declared by its presence.
 * Libcloud's `deploy_node`/`wait_until_running` live in the core (src/providers/ssh), not here.
 */
export interface ComputeDriver {
  listNodes(): Promise<Node[]>;
  /** batch lookup; result in key order, null where absent. Core falls back to listNodes. */
  getNodes?(ids: readonly string[]): Promise<(Node | null)[]>;
  listImages(filter?: ImageFilter): Promise<Image[]>;
  /** batch lookup; result in key order, null where absent. Core falls back to listImages. */
  getImages?(ids: readonly string[]): Promise<(Image | null)[]>;
  listSizes(): Promise<Size[]>;
  listLocations(): Promise<Location[]>;
  createNode(input: CreateNodeInput): Promise<Node>;
  destroyNode(id: string): Promise<void>;
  rebootNode?(id: string, opts?: { hard?: boolean }): Promise<void>;
  startNode?(id: string): Promise<void>;
  stopNode?(id: string): Promise<void>;

  createImage?(nodeId: string, name: string, description?: string): Promise<Image>;
  deleteImage?(id: string): Promise<void>;
  copyImage?(sourceRegion: string, imageId: string, name: string, description?: string): Promise<Image>;

  listVolumes?(): Promise<Volume[]>;
  createVolume?(input: { size: number; name: string; locationId?: string; snapshotId?: string }): Promise<Volume>;
  attachVolume?(nodeId: string, volumeId: string, device?: string): Promise<void>;
  detachVolume?(volumeId: string): Promise<void>;
  destroyVolume?(volumeId: string): Promise<void>;
  listVolumeSnapshots?(volumeId: string): Promise<VolumeSnapshot[]>;
  createVolumeSnapshot?(volumeId: string, name?: string): Promise<VolumeSnapshot>;
  destroyVolumeSnapshot?(snapshotId: string): Promise<void>;

  listKeyPairs?(): Promise<KeyPair[]>;
  getKeyPair?(name: string): Promise<KeyPair>;
  createKeyPair?(name: string): Promise<KeyPair>;
  importKeyPair?(name: string, publicKey: string): Promise<KeyPair>;
  deleteKeyPair?(name: string): Promise<void>;

  /** provider-only operations */
  ex?: Record<string, (...args: never[]) => Promise<unknown>>;
}

export interface ListObjectsOptions {
  prefix?: string | undefined;
  /** opaque continuation token from a previous page */
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface ObjectPage {
  objects: StorageObject[];
  /** null when this is the last page */
  nextCursor: string | null;
}

export interface UploadOptions {
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  /** when known in advance (Content-Length); drivers must not require it */
  size?: number | undefined;
}

export interface ByteRange {
  start: number;
  /** inclusive; undefined means to the end */
  end?: number | undefined;
}

export interface Download {
  object: StorageObject;
  body: Readable;
  /** the satisfied range, when one was asked for */
  range?: { start: number; end: number; total: number } | undefined;
}

export interface PresignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

/** Storage service. Bodies are streams in both directions; no driver buffers a whole object. */
export interface StorageDriver {
  listContainers(): Promise<Container[]>;
  getContainer(name: string): Promise<Container>;
  createContainer(name: string): Promise<Container>;
  /** fails with ContainerNotEmptyError when objects remain */
  deleteContainer(name: string): Promise<void>;
  listObjects(container: string, opts?: ListObjectsOptions): Promise<ObjectPage>;
  getObject(container: string, name: string): Promise<StorageObject>;
  uploadObject(
    container: string,
    name: string,
    body: AsyncIterable<Uint8Array>,
    opts?: UploadOptions,
  ): Promise<StorageObject>;
  downloadObject(container: string, name: string, range?: ByteRange): Promise<Download>;
  deleteObject(container: string, name: string): Promise<void>;
  /** presigned GET, when the provider has one */
  getDownloadUrl?(container: string, name: string, expiresInSeconds: number): Promise<string>;
  /** presigned PUT, when the provider has one */
  createUploadUrl?(container: string, name: string, expiresInSeconds: number): Promise<PresignedRequest>;
  getContainerCdnUrl?(container: string): Promise<string>;
  enableContainerCdn?(container: string): Promise<void>;
  ex?: Record<string, (...args: never[]) => Promise<unknown>>;
}

export interface CreateBalancerInput {
  name: string;
  port: number;
  protocol: string;
  algorithm: Algorithm;
  members: { ip: string; port: number }[];
  ex?: Record<string, unknown> | undefined;
}

/** Load-balancer service. */
export interface LoadBalancerDriver {
  listProtocols(): Promise<string[]>;
  /** Algorithms this provider supports; anything else is rejected by createBalancer. */
  listAlgorithms(): Algorithm[];
  listBalancers(): Promise<LoadBalancer[]>;
  getBalancer(id: string): Promise<LoadBalancer>;
  createBalancer(input: CreateBalancerInput): Promise<LoadBalancer>;
  updateBalancer?(
    id: string,
    patch: { name?: string; port?: number; protocol?: string; algorithm?: Algorithm },
  ): Promise<LoadBalancer>;
  destroyBalancer(id: string): Promise<void>;
  listMembers(balancerId: string): Promise<Member[]>;
  attachMember(balancerId: string, member: { ip: string; port: number; nodeId?: string }): Promise<Member>;
  /** attach a compute node by id; core falls back to attachMember with the node's first IP */
  attachNode?(balancerId: string, node: Node, port: number): Promise<Member>;
  detachMember(balancerId: string, memberId: string): Promise<void>;
  ex?: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** Zone types (Libcloud's `master`/`slave`): a slave zone is transferred from its masters. */
export const ZONE_TYPES = ['master', 'slave'] as const;
export type ZoneType = (typeof ZONE_TYPES)[number];

/** Libcloud's RecordType values; each driver accepts the subset its listRecordTypes() names. */
export const RECORD_TYPES = [
  'A', 'AAAA', 'AFSDB', 'ALIAS', 'CAA', 'CERT', 'CNAME', 'DNAME', 'DNSKEY', 'DS', 'GEO', 'HINFO', 'KEY', 'LOC', 'MX',
  'NAPTR', 'NS', 'NSEC', 'OPENPGPKEY', 'PTR', 'REDIRECT', 'RP', 'RRSIG', 'SOA', 'SPF', 'SRV', 'SSHFP', 'TLSA', 'TXT',
  'URL', 'WKS',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** A DNS zone (Route 53 hosted zone, PowerDNS zone, DigitalOcean domain...). */
export interface Zone {
  /** the provider's zone id (Route 53 `Z...` without `/hostedzone/`, PowerDNS `example.com.`, a domain name, a UUID) */
  id: string;
  /** fully qualified, lower case, without the trailing dot: `example.com` */
  domain: string;
  type: ZoneType;
  /** the zone's default TTL in seconds (SOA minimum or the provider's zone TTL); null when the provider has none */
  ttl: number | null;
  extra: Extra;
}

/**
 * One DNS record: ONE value. An rrset with several values (two A addresses for `www`) is several
 * DnsRecords sharing name, type and ttl. (Named DnsRecord because TypeScript's `Record` is taken.)
 *
 * - `name` is relative to the zone, lower case, without a trailing dot; the apex is `''`
 *   (inputs may also say `'@'`, which drivers turn into `''`).
 * - `data` is the value in presentation form WITHOUT the priority: an address for A/AAAA; a
 *   fully qualified host name without the trailing dot for CNAME, NS, PTR, DNAME, ALIAS and the
 *   MX exchange; `weight port target` for SRV (target without the trailing dot); the text itself
 *   for TXT and SPF, unquoted (character-strings a provider splits are joined); the provider's
 *   presentation form for anything else (`0 issue "letsencrypt.org"` for CAA).
 * - `priority` is the MX preference or SRV priority; null for every other type.
 * - `ttl` is per rrset on providers that store rrsets (Route 53, PowerDNS, Designate): changing
 *   it on one record changes it for the records that share its name and type.
 * - `id` is stable and routable: getRecord(zoneId, id) finds the record again. Drivers for APIs
 *   keyed by name and type (Route 53, PowerDNS, Designate recordsets) encode name, type and data
 *   in it, so an update that changes any of them returns a record with a NEW id.
 */
export interface DnsRecord {
  id: string;
  /** the id of the zone the record belongs to */
  zoneId: string;
  name: string;
  type: RecordType;
  data: string;
  /** seconds; null when the record uses the zone's default */
  ttl: number | null;
  /** MX preference / SRV priority; null for other types */
  priority: number | null;
  extra: Extra;
}

export interface CreateZoneInput {
  /** fully qualified, with or without the trailing dot; stored lower case */
  domain: string;
  /** default 'master' */
  type?: ZoneType | undefined;
  /**
   * default TTL (seconds) where the provider lets one set it (sandbox, PowerDNS, Designate,
   * Rackspace); Route 53 (no zone TTL) and DigitalOcean (always 1800) leave it out, and the
   * Zone answered shows the TTL in force
   */
  ttl?: number | undefined;
  /** SOA contact (`hostmaster@example.com`) for providers that ask for one; default `hostmaster@<domain>` */
  email?: string | undefined;
  /** addresses of the master servers of a slave zone (required for type 'slave') */
  masters?: string[] | undefined;
  /** provider-only parameters */
  ex?: Record<string, unknown> | undefined;
}

export interface UpdateZoneInput {
  ttl?: number | undefined;
  email?: string | undefined;
  masters?: string[] | undefined;
}

export interface CreateRecordInput {
  /** relative to the zone; '' or '@' for the apex */
  name: string;
  type: RecordType;
  /** see DnsRecord.data */
  data: string;
  /** seconds; default the zone's (or the provider's) default */
  ttl?: number | undefined;
  /** required for MX and SRV, refused for other types */
  priority?: number | undefined;
  ex?: Record<string, unknown> | undefined;
}

/** What to change; absent fields keep their value. */
export interface UpdateRecordInput {
  name?: string | undefined;
  type?: RecordType | undefined;
  data?: string | undefined;
  ttl?: number | undefined;
  priority?: number | undefined;
}

/**
 * DNS service (Libcloud's DNSDriver). Everything is required except updateZone. Unknown zone or
 * record ids answer NotFoundError; a record type outside listRecordTypes() or a value that does
 * not fit its type answers InvalidInputError naming `type` or `data` before any upstream call;
 * creating a zone that exists answers ConflictError where the provider keeps names unique.
 */
export interface DnsDriver {
  /** the record types createRecord accepts; static, no upstream call */
  listRecordTypes(): RecordType[];
  listZones(): Promise<Zone[]>;
  getZone(zoneId: string): Promise<Zone>;
  createZone(input: CreateZoneInput): Promise<Zone>;
  updateZone?(zoneId: string, patch: UpdateZoneInput): Promise<Zone>;
  /** removes the zone with every record in it */
  deleteZone(zoneId: string): Promise<void>;
  /** every record of the zone, the provider's own SOA and NS included; one upstream call per page */
  listRecords(zoneId: string): Promise<DnsRecord[]>;
  getRecord(zoneId: string, recordId: string): Promise<DnsRecord>;
  /** adds one value; on rrset providers it joins the rrset of the same name and type */
  createRecord(zoneId: string, input: CreateRecordInput): Promise<DnsRecord>;
  /** the answer may carry a new id (see DnsRecord.id) */
  updateRecord(zoneId: string, recordId: string, patch: UpdateRecordInput): Promise<DnsRecord>;
  /** removes one value; the rrset goes when its last value does */
  deleteRecord(zoneId: string, recordId: string): Promise<void>;
  ex?: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** One account as given in the config, after validation and ${ENV} interpolation. */
export interface AccountConfig {
  id: string;
  driver: string;
  /** empty for providers without regions */
  regions: string[];
  /** secret values; never logged, never returned */
  credentials: Record<string, string>;
  /** base-URL override */
  endpoint?: string | undefined;
  options: Record<string, unknown>;
  /** subscription poll interval (ms) */
  pollIntervalMs: number;
  /** per-account deadline for one fan-out call (ms) */
  timeoutMs: number;
  /** how long listings stay in the result cache shared by requests (ms); 0 turns it off; the config sets it (default 5000) */
  cacheTtlMs?: number | undefined;
  /**
   * upstream requests of the account open at once, over all its regions and services; the rest
   * wait for a slot (within their deadline); the config sets it (default 16)
   */
  maxConcurrency?: number | undefined;
}

/** What the core hands a driver when it creates one. Tests pass their own. */
export interface DriverContext {
  account: AccountConfig;
  /** the region this instance serves; undefined for providers without regions */
  region: string | undefined;
  /** counts one upstream call; the HTTP connection calls it per request */
  recordCall(operation: string): void;
  /** injected clock so signers and state machines are testable */
  now(): Date;
  logger: Logger;
  /** connection settings for every createConnection of this driver (`defaults: ctx.http`) */
  http?: ConnectionDefaults | undefined;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The services one (account, region) instance provides. */
export interface ProviderInstance {
  compute?: ComputeDriver;
  storage?: StorageDriver;
  loadBalancer?: LoadBalancerDriver;
  dns?: DnsDriver;
  /** release pools, timers and sockets */
  close?(): Promise<void>;
}

/** A registry entry: what a driver is, and how to make one. */
export interface ProviderDefinition {
  name: string;
  /** the provider as people call it: "Amazon EC2", "OpenStack Swift" */
  title: string;
  services: readonly Service[];
  /** true when the provider has regions and an account must name at least one */
  regional: boolean;
  /** region used when a regional account names none */
  defaultRegion?: string;
  /**
   * Validates provider-specific options and credentials; returns a list of problems, each
   * naming the field (`options.latencyMs`, `credentials.accessKeyId`), never echoing values.
   */
  validate?(account: AccountConfig): string[];
  create(ctx: DriverContext): ProviderInstance;
}
