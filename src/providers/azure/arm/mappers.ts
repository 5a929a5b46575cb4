/**
 * ARM compute responses -> skygraph models: virtual machines (with their instance view, NICs and
 * public IPs), managed and marketplace images, VM sizes and locations.
 *
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/get#virtualmachine
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/instance-view
 * https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/list-all
 * https://learn.microsoft.com/rest/api/compute/virtual-machine-sizes/list
 * https://learn.microsoft.com/rest/api/resources/subscriptions/list-locations
 */
import { isIP } from 'node:net';
import type { Image, Location, Node, NodeState, Size } from '../../types.ts';
import { parseResourceId } from './client.ts';

/** The parts of a VM this driver reads. */
export interface ArmVm {
  id: string;
  name: string;
  location?: string;
  tags?: Record<string, string> | null;
  zones?: string[];
  properties?: {
    vmId?: string;
    timeCreated?: string;
    provisioningState?: string;
    hardwareProfile?: { vmSize?: string };
    storageProfile?: { imageReference?: ImageReference; osDisk?: { osType?: string } };
    osProfile?: { computerName?: string; adminUsername?: string };
    networkProfile?: { networkInterfaces?: { id?: string }[] };
    instanceView?: { statuses?: { code?: string }[] };
  };
}

export interface ImageReference {
  id?: string;
  publisher?: string;
  offer?: string;
  sku?: string;
  version?: string;
}

export interface ArmNic {
  id: string;
  properties?: { ipConfigurations?: { properties?: { privateIPAddress?: string; publicIPAddress?: { id?: string } } }[] };
}

export interface ArmPublicIp {
  id: string;
  properties?: { ipAddress?: string };
}

export interface ArmImage {
  id: string;
  name: string;
  location?: string;
  tags?: Record<string, string>;
  properties?: { provisioningState?: string; hyperVGeneration?: string; storageProfile?: { osDisk?: { osType?: string; diskSizeGB?: number } } };
}

export interface ArmVmSize {
  name: string;
  numberOfCores?: number;
  osDiskSizeInMB?: number;
  resourceDiskSizeInMB?: number;
  memoryInMB?: number;
  maxDataDiskCount?: number;
}

export interface ArmLocation {
  id?: string;
  name: string;
  displayName?: string;
  regionalDisplayName?: string;
  metadata?: { regionType?: string; geography?: string; geographyGroup?: string; physicalLocation?: string; latitude?: string; longitude?: string };
}

/** Addresses by NIC id (lower-cased), from one list of NICs and one of public IPs. */
export type AddressBook = Map<string, { privateIps: string[]; publicIps: string[] }>;

/**
 * Power and provisioning states of the instance view -> NodeState. A failed or deleting
 * provisioning state wins; otherwise the power state says; a VM still being created has none.
 *
 * https://learn.microsoft.com/azure/virtual-machines/states-billing
 */
const POWER_STATE: Record<string, NodeState> = {
  running: 'running',
  starting: 'starting',
  stopping: 'stopping',
  stopped: 'stopped',
  deallocating: 'stopping',
  deallocated: 'stopped',
  unknown: 'unknown',
};
const PROVISIONING_STATE: Record<string, NodeState> = {
  creating: 'pending',
  updating: 'updating',
  migrating: 'migrating',
  deleting: 'terminated',
  failed: 'error',
  canceled: 'error',
};

/** Country of each Azure region (ISO 3166 alpha-2), from Microsoft's list of regions and their locations. */
const REGION_COUNTRY: Record<string, string> = {
  eastus: 'US', eastus2: 'US', centralus: 'US', northcentralus: 'US', southcentralus: 'US', westcentralus: 'US', westus: 'US',
  westus2: 'US', westus3: 'US', canadacentral: 'CA', canadaeast: 'CA', brazilsouth: 'BR', brazilsoutheast: 'BR', mexicocentral: 'MX',
  northeurope: 'IE', westeurope: 'NL', uksouth: 'GB', ukwest: 'GB', francecentral: 'FR', francesouth: 'FR', germanywestcentral: 'DE',
  germanynorth: 'DE', switzerlandnorth: 'CH', switzerlandwest: 'CH', norwayeast: 'NO', norwaywest: 'NO', swedencentral: 'SE',
  polandcentral: 'PL', italynorth: 'IT', spaincentral: 'ES', austriaeast: 'AT', belgiumcentral: 'BE', denmarkeast: 'DK',
  eastasia: 'HK', southeastasia: 'SG', japaneast: 'JP', japanwest: 'JP', koreacentral: 'KR', koreasouth: 'KR', centralindia: 'IN',
  southindia: 'IN', westindia: 'IN', jioindiawest: 'IN', jioindiacentral: 'IN', australiaeast: 'AU', australiasoutheast: 'AU',
  australiacentral: 'AU', australiacentral2: 'AU', newzealandnorth: 'NZ', indonesiacentral: 'ID', malaysiawest: 'MY',
  uaenorth: 'AE', uaecentral: 'AE', qatarcentral: 'QA', israelcentral: 'IL', southafricanorth: 'ZA', southafricawest: 'ZA',
  chilecentral: 'CL',
};

export function nodeState(vm: ArmVm): NodeState {
  let power: string | undefined;
  let provisioning: string | undefined;
  for (const { code } of vm.properties?.instanceView?.statuses ?? []) {
    const [kind, value] = (code ?? '').split('/');
    if (kind === 'PowerState') power = value?.toLowerCase();
    if (kind === 'ProvisioningState') provisioning = value?.toLowerCase();
  }
  provisioning ??= vm.properties?.provisioningState?.toLowerCase();
  if (provisioning === 'failed' || provisioning === 'deleting' || provisioning === 'canceled') return PROVISIONING_STATE[provisioning]!;
  if (power !== undefined) return POWER_STATE[power] ?? 'unknown';
  return (provisioning && PROVISIONING_STATE[provisioning]) || 'unknown';
}

/** The image id a VM was made from: a managed image's ARM id, or the marketplace URN. */
export function imageIdOf(ref: ImageReference | undefined): string | null {
  if (!ref) return null;
  if (ref.id) return ref.id;
  if (ref.publisher && ref.offer && ref.sku) return [ref.publisher, ref.offer, ref.sku, ref.version ?? 'latest'].join(':');
  return null;
}

/** `publisher:offer:sku:version` (what `az vm create --image` takes) -> an image reference. */
export function parseUrn(urn: string): ImageReference | undefined {
  const parts = urn.split(':');
  if (parts.length !== 4 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) return undefined;
  const [publisher, offer, sku, version] = parts as [string, string, string, string];
  return { publisher, offer, sku, version };
}

export function toNode(vm: ArmVm, addresses: AddressBook): Node {
  const props = vm.properties ?? {};
  const privateIps: string[] = [];
  const publicIps: string[] = [];
  for (const nic of props.networkProfile?.networkInterfaces ?? []) {
    const found = nic.id ? addresses.get(nic.id.toLowerCase()) : undefined;
    if (found) {
      privateIps.push(...found.privateIps);
      publicIps.push(...found.publicIps);
    }
  }
  const created = props.timeCreated ? new Date(props.timeCreated) : null;
  const power = (props.instanceView?.statuses ?? []).find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
  const extra: Record<string, unknown> = { resourceGroup: parseResourceId(vm.id)?.resourceGroup ?? null };
  if (props.vmId) extra.vmId = props.vmId;
  if (props.provisioningState) extra.provisioningState = props.provisioningState;
  if (power) extra.powerState = power;
  if (props.storageProfile?.osDisk?.osType) extra.osType = props.storageProfile.osDisk.osType;
  if (props.osProfile?.computerName) extra.computerName = props.osProfile.computerName;
  if (props.osProfile?.adminUsername) extra.adminUsername = props.osProfile.adminUsername;
  if (vm.zones?.length) extra.zones = [...vm.zones];
  return {
    id: vm.id,
    name: vm.name,
    state: nodeState(vm),
    publicIps,
    privateIps,
    sizeId: props.hardwareProfile?.vmSize ?? null,
    imageId: imageIdOf(props.storageProfile?.imageReference),
    locationId: vm.location ?? null,
    createdAt: created && !Number.isNaN(created.getTime()) ? created : null,
    tags: stringTags(vm.tags),
    extra,
  };
}

/** NIC id -> its private addresses and the addresses of the public IPs it references. */
export function addressBook(nics: ArmNic[], publicIps: ArmPublicIp[]): AddressBook {
  const byId = new Map(publicIps.map((ip) => [ip.id.toLowerCase(), ip.properties?.ipAddress]));
  const book: AddressBook = new Map();
  for (const nic of nics) {
    const entry = { privateIps: [] as string[], publicIps: [] as string[] };
    for (const config of nic.properties?.ipConfigurations ?? []) {
      const priv = config.properties?.privateIPAddress;
      if (priv && isIP(priv)) entry.privateIps.push(priv);
      const pubId = config.properties?.publicIPAddress?.id;
      const pub = pubId ? byId.get(pubId.toLowerCase()) : undefined;
      if (pub && isIP(pub)) entry.publicIps.push(pub);
    }
    book.set(nic.id.toLowerCase(), entry);
  }
  return book;
}

export function toManagedImage(image: ArmImage): Image {
  const disk = image.properties?.storageProfile?.osDisk;
  return {
    id: image.id,
    name: image.name,
    extra: {
      source: 'managed',
      location: image.location ?? null,
      osType: disk?.osType ?? null,
      diskSizeGB: disk?.diskSizeGB ?? null,
      hyperVGeneration: image.properties?.hyperVGeneration ?? null,
      tags: stringTags(image.tags),
    },
  };
}

export function toMarketplaceImage(urn: string, ref: ImageReference): Image {
  return { id: urn, name: `${ref.offer} ${ref.sku} (${ref.publisher})`, extra: { source: 'marketplace', ...ref } };
}

export function toSize(size: ArmVmSize): Size {
  return {
    id: size.name,
    name: size.name,
    ram: Math.max(0, Math.round(size.memoryInMB ?? 0)),
    // why: the temporary (resource) disk is the size's own disk; the OS disk is a separate managed disk
    disk: Math.max(0, Math.round((size.resourceDiskSizeInMB ?? 0) / 1024)),
    bandwidth: null,
    price: null,
    extra: { cores: size.numberOfCores ?? null, maxDataDiskCount: size.maxDataDiskCount ?? null, osDiskSizeInMB: size.osDiskSizeInMB ?? null },
  };
}

export function toLocation(location: ArmLocation): Location {
  const meta = location.metadata ?? {};
  return {
    id: location.name,
    name: location.displayName ?? location.name,
    country: REGION_COUNTRY[location.name] ?? '',
    extra: {
      regionalDisplayName: location.regionalDisplayName ?? null,
      geography: meta.geography ?? null,
      geographyGroup: meta.geographyGroup ?? null,
      physicalLocation: meta.physicalLocation ?? null,
    },
  };
}

// --- Internal helpers ---

function stringTags(tags: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}
