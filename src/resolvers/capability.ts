/**
 * Capabilities: what an account can do, named after the GraphQL fields that do it. A service's
 * core fields are there whenever the account has the service; the others need driver methods,
 * which a driver declares by having them. Every optional operation goes through one check here,
 * which answers UNSUPPORTED naming the capability.
 */
import { UnsupportedError } from '../providers/errors.ts';
import type { ComputeDriver, DnsDriver, LoadBalancerDriver, Service, StorageDriver } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';

type Methods<D> = readonly Extract<keyof D, string>[];

interface CapabilitySpec {
  service: Service;
  /** the GraphQL field(s) it enables, for the enum's description */
  fields: string;
  compute?: Methods<ComputeDriver>;
  storage?: Methods<StorageDriver>;
  loadBalancer?: Methods<LoadBalancerDriver>;
  dns?: Methods<DnsDriver>;
}

/** Every capability, by the GraphQL field it stands for (SCREAMING_SNAKE of the field name). */
export const CAPABILITIES = {
  NODES: { service: 'COMPUTE', fields: 'nodes, node' },
  CREATE_NODE: { service: 'COMPUTE', fields: 'createNode, deployNode' },
  DELETE_NODE: { service: 'COMPUTE', fields: 'deleteNode' },
  REBOOT_NODE: { service: 'COMPUTE', fields: 'rebootNode', compute: ['rebootNode'] },
  START_NODE: { service: 'COMPUTE', fields: 'startNode', compute: ['startNode'] },
  STOP_NODE: { service: 'COMPUTE', fields: 'stopNode', compute: ['stopNode'] },
  DEPLOY_TO_NODE: { service: 'COMPUTE', fields: 'deployToNode' },
  IMAGES: { service: 'COMPUTE', fields: 'images' },
  CREATE_IMAGE: { service: 'COMPUTE', fields: 'createImage', compute: ['createImage'] },
  COPY_IMAGE: { service: 'COMPUTE', fields: 'copyImage', compute: ['copyImage'] },
  DELETE_IMAGE: { service: 'COMPUTE', fields: 'deleteImage', compute: ['deleteImage'] },
  SIZES: { service: 'COMPUTE', fields: 'sizes' },
  LOCATIONS: { service: 'COMPUTE', fields: 'locations' },
  KEY_PAIRS: { service: 'COMPUTE', fields: 'keyPairs', compute: ['listKeyPairs'] },
  IMPORT_KEY_PAIR: { service: 'COMPUTE', fields: 'importKeyPair', compute: ['importKeyPair'] },
  DELETE_KEY_PAIR: { service: 'COMPUTE', fields: 'deleteKeyPair', compute: ['deleteKeyPair'] },
  VOLUMES: { service: 'COMPUTE', fields: 'volumes', compute: ['listVolumes'] },
  CREATE_VOLUME: { service: 'COMPUTE', fields: 'createVolume', compute: ['createVolume'] },
  ATTACH_VOLUME: { service: 'COMPUTE', fields: 'attachVolume', compute: ['attachVolume'] },
  DETACH_VOLUME: { service: 'COMPUTE', fields: 'detachVolume', compute: ['detachVolume'] },
  DELETE_VOLUME: { service: 'COMPUTE', fields: 'deleteVolume', compute: ['destroyVolume'] },
  VOLUME_SNAPSHOTS: { service: 'COMPUTE', fields: 'volumeSnapshots', compute: ['listVolumeSnapshots'] },
  CREATE_VOLUME_SNAPSHOT: { service: 'COMPUTE', fields: 'createVolumeSnapshot', compute: ['createVolumeSnapshot'] },
  DELETE_VOLUME_SNAPSHOT: { service: 'COMPUTE', fields: 'deleteVolumeSnapshot', compute: ['destroyVolumeSnapshot'] },
  CONTAINERS: { service: 'STORAGE', fields: 'containers, container, Container.objects, object' },
  CREATE_CONTAINER: { service: 'STORAGE', fields: 'createContainer' },
  DELETE_CONTAINER: { service: 'STORAGE', fields: 'deleteContainer' },
  ENABLE_CONTAINER_CDN: { service: 'STORAGE', fields: 'enableContainerCdn', storage: ['enableContainerCdn', 'getContainerCdnUrl'] },
  UPLOAD_OBJECT: { service: 'STORAGE', fields: 'uploadObject, createUploadUrl, PUT /objects' },
  DELETE_OBJECT: { service: 'STORAGE', fields: 'deleteObject' },
  PROVIDER_SIGNED_URLS: {
    service: 'STORAGE',
    fields: 'Object.downloadUrl and createUploadUrl answer the provider\'s own presigned URLs (else skygraph signs /objects URLs)',
    storage: ['getDownloadUrl', 'createUploadUrl'],
  },
  LOAD_BALANCERS: { service: 'LOADBALANCER', fields: 'loadBalancers, loadBalancer, LoadBalancer.members' },
  CREATE_LOAD_BALANCER: { service: 'LOADBALANCER', fields: 'createLoadBalancer' },
  UPDATE_LOAD_BALANCER: { service: 'LOADBALANCER', fields: 'updateLoadBalancer', loadBalancer: ['updateBalancer'] },
  DELETE_LOAD_BALANCER: { service: 'LOADBALANCER', fields: 'deleteLoadBalancer' },
  ATTACH_MEMBER: { service: 'LOADBALANCER', fields: 'attachMember, attachNode' },
  DETACH_MEMBER: { service: 'LOADBALANCER', fields: 'detachMember' },
  ZONES: { service: 'DNS', fields: 'zones, zone, Zone.records, record' },
  CREATE_ZONE: { service: 'DNS', fields: 'createZone' },
  UPDATE_ZONE: { service: 'DNS', fields: 'updateZone', dns: ['updateZone'] },
  DELETE_ZONE: { service: 'DNS', fields: 'deleteZone' },
  CREATE_RECORD: { service: 'DNS', fields: 'createRecord' },
  UPDATE_RECORD: { service: 'DNS', fields: 'updateRecord' },
  DELETE_RECORD: { service: 'DNS', fields: 'deleteRecord' },
} as const satisfies Record<string, CapabilitySpec>;

export type Capability = keyof typeof CAPABILITIES;
export const CAPABILITY_NAMES = Object.keys(CAPABILITIES) as Capability[];

/** The driver methods a capability needs, by service. */
function methodsOf(spec: CapabilitySpec): { service: 'compute' | 'storage' | 'loadBalancer' | 'dns'; methods: readonly string[] } | undefined {
  if (spec.compute) return { service: 'compute', methods: spec.compute };
  if (spec.storage) return { service: 'storage', methods: spec.storage };
  if (spec.loadBalancer) return { service: 'loadBalancer', methods: spec.loadBalancer };
  if (spec.dns) return { service: 'dns', methods: spec.dns };
  return undefined;
}

/** The capabilities of an account, in CAPABILITIES order, from its services and its drivers' methods. */
export function capabilitiesOf(account: AccountRuntime): Capability[] {
  const instance = account.instance(account.regions[0] ?? null);
  return CAPABILITY_NAMES.filter((name) => {
    const spec: CapabilitySpec = CAPABILITIES[name];
    if (!account.definition.services.includes(spec.service)) return false;
    const needs = methodsOf(spec);
    if (!needs) return true;
    const driver = instance[needs.service] as Record<string, unknown> | undefined;
    return needs.methods.every((m) => typeof driver?.[m] === 'function');
  });
}

/** The capability a driver method belongs to, for the UNSUPPORTED message. */
function capabilityOfMethod(method: string): Capability | undefined {
  return CAPABILITY_NAMES.find((name) => methodsOf(CAPABILITIES[name])?.methods.includes(method));
}

/** The error for an optional driver operation the account's driver does not have. */
export function unsupported(account: AccountRuntime, method: string): UnsupportedError {
  const capability = capabilityOfMethod(method);
  const what = capability ? `${capability} (${CAPABILITIES[capability].fields})` : method;
  return new UnsupportedError(`account "${account.config.id}" (driver ${account.definition.name}) does not support ${what}; see Account.capabilities`, {
    capability,
  });
}

/** The account's compute driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function computeWith<K extends keyof ComputeDriver>(account: AccountRuntime, region: string | null, ...ops: K[]): ComputeDriver & Required<Pick<ComputeDriver, K>> {
  const driver = account.compute(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account, op);
  return driver as ComputeDriver & Required<Pick<ComputeDriver, K>>;
}

/** The account's storage driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function storageWith<K extends keyof StorageDriver>(account: AccountRuntime, region: string | null, ...ops: K[]): StorageDriver & Required<Pick<StorageDriver, K>> {
  const driver = account.storage(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account, op);
  return driver as StorageDriver & Required<Pick<StorageDriver, K>>;
}

/** The account's DNS driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function dnsWith<K extends keyof DnsDriver>(account: AccountRuntime, region: string | null, ...ops: K[]): DnsDriver & Required<Pick<DnsDriver, K>> {
  const driver = account.dns(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account, op);
  return driver as DnsDriver & Required<Pick<DnsDriver, K>>;
}

/** The account's load-balancer driver in `region`, typed as having `ops`; throws UNSUPPORTED when it lacks one. */
export function loadBalancerWith<K extends keyof LoadBalancerDriver>(
  account: AccountRuntime,
  region: string | null,
  ...ops: K[]
): LoadBalancerDriver & Required<Pick<LoadBalancerDriver, K>> {
  const driver = account.loadBalancer(region);
  for (const op of ops) if (typeof driver[op] !== 'function') throw unsupported(account, op);
  return driver as LoadBalancerDriver & Required<Pick<LoadBalancerDriver, K>>;
}
