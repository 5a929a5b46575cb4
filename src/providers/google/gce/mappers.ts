/**
 * Compute Engine JSON -> models. Node ids are `zone/name` (instance names are unique per zone,
 * and every instance call needs both); image ids are `project/name`.
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1/instances
 * https://cloud.google.com/compute/docs/reference/rest/v1/images
 * https://cloud.google.com/compute/docs/reference/rest/v1/machineTypes
 * https://cloud.google.com/compute/docs/reference/rest/v1/zones
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../../errors.ts';
import type { Image, Location, Node, NodeState, Size } from '../../types.ts';
import { date, int, lastSegment, list, obj, str, stringMap, strings, type Json } from '../json.ts';
import { zoneRegion } from './api.ts';
import { machineTypePrice, PRICE_SOURCE } from './sizes.ts';

// https://cloud.google.com/compute/docs/instances/instance-life-cycle
// why: TERMINATED is a stopped instance that can be started again, not a deleted one
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  PROVISIONING: 'pending',
  STAGING: 'starting',
  RUNNING: 'running',
  STOPPING: 'stopping',
  STOPPED: 'stopped',
  TERMINATED: 'stopped',
  SUSPENDING: 'stopping',
  SUSPENDED: 'suspended',
  REPAIRING: 'error',
};

// https://cloud.google.com/compute/docs/regions-zones#available
const REGION_COUNTRY: Readonly<Record<string, string>> = {
  'africa-south1': 'ZA',
  'asia-east1': 'TW',
  'asia-east2': 'HK',
  'asia-northeast1': 'JP',
  'asia-northeast2': 'JP',
  'asia-northeast3': 'KR',
  'asia-south1': 'IN',
  'asia-south2': 'IN',
  'asia-southeast1': 'SG',
  'asia-southeast2': 'ID',
  'australia-southeast1': 'AU',
  'australia-southeast2': 'AU',
  'europe-central2': 'PL',
  'europe-north1': 'FI',
  'europe-southwest1': 'ES',
  'europe-west1': 'BE',
  'europe-west2': 'GB',
  'europe-west3': 'DE',
  'europe-west4': 'NL',
  'europe-west6': 'CH',
  'europe-west8': 'IT',
  'europe-west9': 'FR',
  'europe-west10': 'DE',
  'europe-west12': 'IT',
  'me-central1': 'QA',
  'me-central2': 'SA',
  'me-west1': 'IL',
  'northamerica-northeast1': 'CA',
  'northamerica-northeast2': 'CA',
  'southamerica-east1': 'BR',
  'southamerica-west1': 'CL',
};

/** ISO 3166 alpha-2 of a region, '' when unknown (every `us-*` region is in the US). */
export function regionCountry(region: string): string {
  return REGION_COUNTRY[region] ?? (region.startsWith('us-') ? 'US' : '');
}

export function toNode(i: Json, provider: string): Node {
  const name = str(i.name);
  const zone = lastSegment(i.zone);
  if (!name || !zone) throw new MalformedResponseError('an instance without a name or zone', { provider });
  const nics = list(i.networkInterfaces);
  const publicIps: string[] = [];
  const privateIps: string[] = [];
  for (const nic of nics) {
    const internal = str(nic.networkIP);
    if (internal && isIP(internal)) privateIps.push(internal);
    for (const ac of [...list(nic.accessConfigs), ...list(nic.ipv6AccessConfigs)]) {
      const ip = str(ac.natIP) ?? str(ac.externalIpv6);
      if (ip && isIP(ip)) publicIps.push(ip);
    }
  }
  const status = str(i.status) ?? '';
  const scheduling = obj(i.scheduling);
  return {
    id: `${zone}/${name}`,
    name,
    state: NODE_STATE[status] ?? 'unknown',
    publicIps,
    privateIps,
    sizeId: lastSegment(i.machineType) ?? null,
    imageId: null,
    locationId: zone,
    createdAt: date(i.creationTimestamp),
    tags: stringMap(i.labels),
    extra: {
      instanceId: str(i.id) ?? null,
      zone,
      status: status || null,
      statusMessage: str(i.statusMessage) ?? null,
      machineType: lastSegment(i.machineType) ?? null,
      cpuPlatform: str(i.cpuPlatform) ?? null,
      networkTags: strings(obj(i.tags)?.items),
      labelFingerprint: str(i.labelFingerprint) ?? null,
      canIpForward: i.canIpForward === true,
      preemptible: scheduling?.preemptible === true,
      networks: nics.map((n) => ({ name: str(n.name) ?? null, network: lastSegment(n.network) ?? null, subnetwork: lastSegment(n.subnetwork) ?? null })),
      disks: list(i.disks).map((d) => ({ deviceName: str(d.deviceName) ?? null, boot: d.boot === true, source: lastSegment(d.source) ?? null, diskSizeGb: int(d.diskSizeGb) ?? null })),
      serviceAccounts: list(i.serviceAccounts).map((s) => str(s.email)).filter((e): e is string => e !== undefined),
      selfLink: str(i.selfLink) ?? null,
    },
  };
}

/** `project` is the project the image was listed from (the id's first part). */
export function toImage(img: Json, project: string): Image {
  const name = str(img.name) ?? '';
  const deprecated = obj(img.deprecated);
  return {
    id: `${project}/${name}`,
    name,
    extra: {
      project,
      family: str(img.family) ?? null,
      description: str(img.description) ?? null,
      status: str(img.status) ?? null,
      architecture: str(img.architecture) ?? null,
      diskSizeGb: int(img.diskSizeGb) ?? null,
      deprecated: str(deprecated?.state) ?? null,
      createdAt: str(img.creationTimestamp) ?? null,
      labels: stringMap(img.labels),
      selfLink: str(img.selfLink) ?? null,
    },
  };
}

export function isDeprecatedImage(img: Json): boolean {
  const state = str(obj(img.deprecated)?.state);
  return state === 'DEPRECATED' || state === 'OBSOLETE' || state === 'DELETED';
}

export function toSize(mt: Json, region: string): Size {
  const name = str(mt.name) ?? '';
  const guestCpus = int(mt.guestCpus);
  const memoryMb = int(mt.memoryMb);
  const price = machineTypePrice(name, region, guestCpus, memoryMb);
  return {
    id: name,
    name,
    ram: memoryMb ?? 0,
    // why: a machine type has no disk; the boot disk is sized at creation (ex.diskSizeGb)
    disk: 0,
    bandwidth: null,
    price,
    extra: {
      guestCpus: guestCpus ?? null,
      isSharedCpu: mt.isSharedCpu === true,
      description: str(mt.description) ?? null,
      maximumPersistentDisks: int(mt.maximumPersistentDisks) ?? null,
      maximumPersistentDisksSizeGb: int(mt.maximumPersistentDisksSizeGb) ?? null,
      accelerators: list(mt.accelerators).map((a) => ({ type: str(a.guestAcceleratorType) ?? null, count: int(a.guestAcceleratorCount) ?? null })),
      deprecated: str(obj(mt.deprecated)?.state) ?? null,
      zone: str(mt.zone) ?? null,
      priceSource: price === null ? null : PRICE_SOURCE,
    },
  };
}

export function toLocation(z: Json): Location {
  const name = str(z.name) ?? '';
  const region = lastSegment(z.region) ?? zoneRegion(name);
  return {
    id: name,
    name,
    country: regionCountry(region),
    extra: {
      region,
      status: str(z.status) ?? null,
      description: str(z.description) ?? null,
      availableCpuPlatforms: strings(z.availableCpuPlatforms),
    },
  };
}
