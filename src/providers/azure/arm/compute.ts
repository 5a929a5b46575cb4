/**
 * Azure virtual machines through Azure Resource Manager (Microsoft.Compute).
 *
 * Listing costs three list calls whatever the number of VMs (one per page of each): all VMs of
 * the subscription with `statusOnly=true` (their power state included), all network interfaces
 * and all public IP addresses; the region's VMs are kept. Power operations and deletes return
 * once ARM has accepted them (202): the node's state shows their progress, as with other
 * drivers. stopNode deallocates (compute billing stops, the dynamic public IP is released);
 * `ex.powerOff` stops without deallocating.
 *
 * https://learn.microsoft.com/rest/api/compute/virtual-machines
 */
import { InvalidInputError, NotFoundError, ProviderError } from '../../errors.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../../types.ts';
import { idPath, parseResourceId, resourceId, type ArmClient } from './client.ts';
import {
  addressBook,
  parseUrn,
  toLocation,
  toManagedImage,
  toMarketplaceImage,
  toNode,
  toSize,
  type ArmImage,
  type ArmLocation,
  type ArmNic,
  type ArmPublicIp,
  type ArmVm,
  type ArmVmSize,
  type ImageReference,
} from './mappers.ts';

/** Settings of one driver instance (see AzureOptions in index.ts for the account options). */
export interface AzureComputeOptions {
  provider: string;
  arm: ArmClient;
  subscriptionId: string;
  /** the Azure location (region) this instance serves, e.g. `eastus` */
  location: string;
  /** where createNode puts VMs (ex.resourceGroup wins) */
  resourceGroup: string | undefined;
  /** subnet of new VMs' network interfaces (ex.subnetId wins) */
  subnetId: string | undefined;
  adminUsername: string;
  /** give new VMs a Standard static public IP (ex.publicIp wins) */
  publicIp: boolean;
  osDiskType: string;
  /** marketplace images listed by listImages, as `publisher:offer:sku:version` */
  marketplaceImages: readonly string[];
}

export const COMPUTE_API = '2024-07-01';
export const NETWORK_API = '2024-05-01';
export const SUBSCRIPTIONS_API = '2022-12-01';
/** why: the VM creates its NIC and public IP itself (networkInterfaceConfigurations) from this Network API version */
const VM_NETWORK_API = '2020-11-01';
const VM_NAME = /^(?=.{1,64}$)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export function azureComputeDriver(opts: AzureComputeOptions): ComputeDriver {
  const { arm, provider, subscriptionId } = opts;
  const sub = `subscriptions/${encodeURIComponent(subscriptionId)}`;
  const invalid = (message: string, field: string) => new InvalidInputError(message, { provider, field });
  const inRegion = (location: string | undefined) => normalizeLocation(location) === normalizeLocation(opts.location);

  const listNodes = async (): Promise<Node[]> => {
    // https://learn.microsoft.com/rest/api/compute/virtual-machines/list-all
    // https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/list-all
    // https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/list-all
    const [vms, nics, ips] = await Promise.all([
      arm.list<ArmVm>('ListVirtualMachines', `${sub}/providers/Microsoft.Compute/virtualMachines`, COMPUTE_API, { statusOnly: 'true' }),
      arm.list<ArmNic>('ListNetworkInterfaces', `${sub}/providers/Microsoft.Network/networkInterfaces`, NETWORK_API),
      arm.list<ArmPublicIp>('ListPublicIPAddresses', `${sub}/providers/Microsoft.Network/publicIPAddresses`, NETWORK_API),
    ]);
    const book = addressBook(nics, ips);
    return vms.filter((vm) => inRegion(vm.location)).map((vm) => toNode(vm, book));
  };

  const listImages = async (filter?: ImageFilter): Promise<Image[]> => {
    // https://learn.microsoft.com/rest/api/compute/images/list
    const managed = (await arm.list<ArmImage>('ListImages', `${sub}/providers/Microsoft.Compute/images`, COMPUTE_API))
      .filter((image) => inRegion(image.location))
      .map(toManagedImage);
    const marketplace = opts.marketplaceImages.map((urn) => toMarketplaceImage(urn, parseUrn(urn)!));
    let images = [...managed, ...marketplace];
    if (filter?.ids) {
      const wanted = new Set(filter.ids.map((id) => id.toLowerCase()));
      images = images.filter((i) => wanted.has(i.id.toLowerCase()));
    }
    if (filter?.name) images = images.filter((i) => i.name.toLowerCase().includes(filter.name!.toLowerCase()));
    if (filter?.owner) {
      const owner = filter.owner.toLowerCase();
      images = images.filter((i) => (owner === 'self' ? i.extra.source === 'managed' : String(i.extra.publisher ?? '').toLowerCase() === owner));
    }
    return images;
  };

  /** POSTs a power action to a VM; ARM accepts it with 202 and carries it out in the background. */
  const action = async (operation: string, id: string, verb: string) => {
    await arm.request({ operation, method: 'POST', path: `${vmPath(id)}/${verb}`, apiVersion: COMPUTE_API, expect: [200, 202], responseType: 'none', idempotent: true });
  };

  const vmPath = (id: string): string => {
    const parsed = typeof id === 'string' ? parseResourceId(id) : undefined;
    if (!parsed || parsed.type.toLowerCase() !== 'microsoft.compute/virtualmachines') {
      throw invalid('node ids are ARM virtual machine ids: /subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/virtualMachines/<name>', 'id');
    }
    if (parsed.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) {
      throw new NotFoundError(`virtual machine ${parsed.name} is not in this account's subscription`, { provider });
    }
    return idPath(id);
  };

  return {
    listNodes,

    async getNodes(ids) {
      const byId = new Map((await listNodes()).map((n) => [n.id.toLowerCase(), n]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    },

    listImages,

    async getImages(ids) {
      const byId = new Map((await listImages()).map((i) => [i.id.toLowerCase(), i]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machine-sizes/list
    async listSizes() {
      const path = `${sub}/providers/Microsoft.Compute/locations/${encodeURIComponent(opts.location)}/vmSizes`;
      return (await arm.list<ArmVmSize>('ListVirtualMachineSizes', path, COMPUTE_API)).map(toSize);
    },

    // https://learn.microsoft.com/rest/api/resources/subscriptions/list-locations
    async listLocations() {
      const locations = await arm.list<ArmLocation>('ListLocations', `${sub}/locations`, SUBSCRIPTIONS_API);
      // why: logical entries (`global`, geography groups) cannot hold resources
      return locations.filter((l) => (l.metadata?.regionType ?? 'Physical') === 'Physical').map(toLocation);
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update
    async createNode(input: CreateNodeInput) {
      const ex = input.ex ?? {};
      const resourceGroup = stringOption(ex.resourceGroup, 'ex.resourceGroup') ?? opts.resourceGroup;
      if (!resourceGroup) throw invalid('creating a VM needs a resource group: options.resourceGroup or ex.resourceGroup', 'options.resourceGroup');
      const subnetId = stringOption(ex.subnetId, 'ex.subnetId') ?? opts.subnetId;
      if (!subnetId) throw invalid('creating a VM needs a subnet: options.subnetId or ex.subnetId', 'options.subnetId');
      if (typeof input.name !== 'string' || !VM_NAME.test(input.name)) {
        throw invalid('VM names are 1-64 letters, digits, ".", "_" and "-", starting with a letter or digit and not ending with "." or "-"', 'name');
      }
      if (typeof input.sizeId !== 'string' || input.sizeId === '') throw invalid('sizeId is required', 'sizeId');
      const imageReference = imageRef(input.imageId);
      if (!imageReference) throw invalid('imageId must be a managed image id or a marketplace URN publisher:offer:sku:version', 'imageId');
      if (input.keyName !== undefined) throw invalid('Azure takes the public key itself: pass sshKey, not keyName', 'keyName');
      const adminUsername = stringOption(ex.adminUsername, 'ex.adminUsername') ?? opts.adminUsername;
      if (!USERNAME.test(adminUsername)) throw invalid('adminUsername must be a Linux user name (lower-case letters, digits, _ and -)', 'ex.adminUsername');
      const adminPassword = stringOption(ex.adminPassword, 'ex.adminPassword');
      if (!input.sshKey && !adminPassword) throw invalid('pass sshKey (or ex.adminPassword) so the VM can be logged into', 'sshKey');
      const publicIp = ex.publicIp === undefined ? opts.publicIp : ex.publicIp === true;
      const zone = stringOption(ex.zone, 'ex.zone');
      const tags = { ...stringRecord(ex.tags, 'ex.tags'), ...(input.tags ?? {}) };
      if (input.locationId !== undefined && !inRegion(input.locationId)) {
        throw invalid(`this instance serves location ${opts.location}; create the VM through the account's region ${input.locationId}`, 'locationId');
      }
      const location = opts.location;

      const body = {
        location,
        tags,
        ...(zone ? { zones: [zone] } : {}),
        properties: {
          hardwareProfile: { vmSize: input.sizeId },
          storageProfile: {
            imageReference,
            osDisk: { createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: stringOption(ex.osDiskType, 'ex.osDiskType') ?? opts.osDiskType } },
          },
          osProfile: {
            computerName: input.name.slice(0, 64),
            adminUsername,
            ...(adminPassword ? { adminPassword } : {}),
            ...(input.userData ? { customData: Buffer.from(input.userData, 'utf8').toString('base64') } : {}),
            linuxConfiguration: {
              disablePasswordAuthentication: !adminPassword,
              ...(input.sshKey ? { ssh: { publicKeys: [{ path: `/home/${adminUsername}/.ssh/authorized_keys`, keyData: input.sshKey.trim() }] } } : {}),
            },
          },
          networkProfile: {
            networkApiVersion: VM_NETWORK_API,
            networkInterfaceConfigurations: [
              {
                name: `${input.name}-nic`,
                properties: {
                  primary: true,
                  deleteOption: 'Delete',
                  ipConfigurations: [
                    {
                      name: 'ipconfig1',
                      properties: {
                        primary: true,
                        subnet: { id: subnetId },
                        ...(publicIp
                          ? { publicIPAddressConfiguration: { name: `${input.name}-ip`, sku: { name: 'Standard' }, properties: { deleteOption: 'Delete', publicIPAllocationMethod: 'Static' } } }
                          : {}),
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
      };
      const id = resourceId(subscriptionId, resourceGroup, 'Microsoft.Compute/virtualMachines', input.name);
      const res = await arm.request<ArmVm>({
        operation: 'CreateVirtualMachine',
        method: 'PUT',
        path: idPath(id),
        apiVersion: COMPUTE_API,
        // why: a PUT on an existing name would update that VM; this makes it fail instead
        headers: { 'if-none-match': '*' },
        json: body,
        // why: a retried PUT that already went through would fail the If-None-Match
        idempotent: false,
        expect: [200, 201],
      });
      if (!res.body?.id) throw new ProviderError('CreateVirtualMachine: the response has no VM', { provider, requestId: res.requestId });
      return toNode(res.body, new Map());
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machines/delete
    async destroyNode(id) {
      const res = await arm.request({ operation: 'DeleteVirtualMachine', method: 'DELETE', path: vmPath(id), apiVersion: COMPUTE_API, expect: [200, 202, 204], responseType: 'none' });
      // why: ARM answers a DELETE of a resource that does not exist with 204
      if (res.status === 204) throw new NotFoundError(`DeleteVirtualMachine: no virtual machine ${parseResourceId(id)?.name ?? ''}`, { provider, status: 204 });
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machines/restart
    async rebootNode(id) {
      await action('RestartVirtualMachine', id, 'restart');
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machines/start
    async startNode(id) {
      await action('StartVirtualMachine', id, 'start');
    },

    // https://learn.microsoft.com/rest/api/compute/virtual-machines/deallocate
    async stopNode(id) {
      await action('DeallocateVirtualMachine', id, 'deallocate');
    },

    ex: {
      /** stops the VM without deallocating it: it keeps its host and IPs, and compute is still billed */
      // https://learn.microsoft.com/rest/api/compute/virtual-machines/power-off
      async powerOff(id: string) {
        await action('PowerOffVirtualMachine', id, 'powerOff');
      },
    },
  };

  function imageRef(imageId: unknown): ImageReference | undefined {
    if (typeof imageId !== 'string') return undefined;
    const parsed = parseResourceId(imageId);
    if (parsed && parsed.type.toLowerCase() === 'microsoft.compute/images') return { id: imageId };
    return parseUrn(imageId);
  }

  function stringOption(value: unknown, field: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw invalid(`${field} must be a non-empty string`, field);
    return value;
  }

  function stringRecord(value: unknown, field: string): Record<string, string> {
    if (value === undefined) return {};
    if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      throw invalid(`${field} must map names to strings`, field);
    }
    return value as Record<string, string>;
  }
}

// --- Internal helpers ---

/** `East US` and `eastus` name the same location. */
function normalizeLocation(location: string | undefined): string {
  return (location ?? '').replace(/\s+/g, '').toLowerCase();
}
