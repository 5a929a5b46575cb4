/**
 * The KubeVirt compute driver for one namespace: VirtualMachines (kubevirt.io/v1) as nodes, their
 * VirtualMachineInstances for addresses and phase, start/stop/restart through the
 * subresources.kubevirt.io API (what `virtctl` uses), containerDisk images and sizes from a
 * catalog (mappers.ts, or the account's options), the namespace as the one location.
 */
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError, NotFoundError, ProviderError } from '../errors.ts';
import { obj, type Json } from '../rest/json.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Location, Node } from '../types.ts';
import { DRIVER_NAME, listAll, type KubeApi } from './api.ts';
import { str, toImage, toNode, toSize, type ImageSpec, type SizeSpec } from './mappers.ts';

/** What the driver offers and how it pages. */
export interface KubevirtCatalog {
  images: readonly ImageSpec[];
  sizes: readonly SizeSpec[];
  pageSize: number;
}

export const RUN_STRATEGIES = ['Always', 'RerunOnFailure', 'Manual', 'Halted'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function kubevirtComputeDriver(open: () => Promise<KubeApi>, catalog: KubevirtCatalog): ComputeDriver {
  const provider = DRIVER_NAME;

  const listNodes = async (): Promise<Node[]> => {
    const { conn, namespace } = await open();
    const ns = encodeURIComponent(namespace);
    // https://kubevirt.io/api-reference/main/operations.html#_listnamespacedvirtualmachine
    // https://kubevirt.io/api-reference/main/operations.html#_listnamespacedvirtualmachineinstance
    const [vms, vmis] = await Promise.all([
      listAll(conn, `apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`, 'GET /virtualmachines', catalog.pageSize),
      listAll(conn, `apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`, 'GET /virtualmachineinstances', catalog.pageSize),
    ]).catch((err: unknown) => {
      // why: listing a namespace that has no objects answers 200; a 404 means the API group is not served
      if (err instanceof NotFoundError) throw new ProviderError(`${err.message.replace(/^\[[^\]]+\] /, '')} (is KubeVirt installed? kubevirt.io/v1 is not served)`, { provider, status: 404 });
      throw err;
    });
    const vmiByName = new Map(vmis.map((i) => [str(obj(i.metadata)?.name), i]));
    return vms.map((vm) => toNode(vm, vmiByName.get(str(obj(vm.metadata)?.name)), catalog));
  };

  const subresource = async (id: string, action: 'start' | 'stop' | 'restart', body: Json) => {
    const { conn, namespace } = await open();
    await conn.request({
      operation: `PUT /virtualmachines/{name}/${action}`,
      method: 'PUT',
      path: `apis/subresources.kubevirt.io/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachines/${vmName(id)}/${action}`,
      json: body,
      expect: [200, 202],
      responseType: 'none',
    });
  };

  const findImage = (id: string) => catalog.images.find((i) => i.id === id);

  return {
    listNodes,

    // why: one listing (VMs + VMIs) per batch instead of two GETs per id
    getNodes: batchFromListing(listNodes),

    async listImages(filter?: ImageFilter): Promise<Image[]> {
      return catalog.images
        .filter((i) => (filter?.ids === undefined || filter.ids.includes(i.id)) && (filter?.name === undefined || i.name === filter.name))
        .map(toImage);
    },

    async getImages(ids) {
      return ids.map((id) => {
        const spec = findImage(id);
        return spec ? toImage(spec) : null;
      });
    },

    async listSizes() {
      return catalog.sizes.map(toSize);
    },

    async listLocations(): Promise<Location[]> {
      const { namespace, target } = await open();
      const where = target.context ?? target.cluster ?? new URL(target.server).host;
      return [{ id: namespace, name: `${where}/${namespace}`, country: '', extra: { namespace, ...(target.context ? { context: target.context } : {}) } }];
    },

    async createNode(input: CreateNodeInput) {
      const { conn, namespace } = await open();
      const manifest = vmManifest(input, namespace, catalog);
      // https://kubevirt.io/api-reference/main/operations.html#_createnamespacedvirtualmachine
      const res = await conn.request<Json>({
        operation: 'POST /virtualmachines',
        method: 'POST',
        path: `apis/kubevirt.io/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachines`,
        json: manifest,
        expect: [200, 201, 202],
      });
      const vm = obj(res.body);
      if (!vm || !str(obj(vm.metadata)?.name)) throw new MalformedResponseError('POST /virtualmachines answered without a VirtualMachine', { provider, status: res.status });
      return toNode(vm, undefined, catalog);
    },

    async destroyNode(id) {
      const { conn, namespace } = await open();
      // https://kubevirt.io/api-reference/main/operations.html#_deletenamespacedvirtualmachine
      await conn.request({
        operation: 'DELETE /virtualmachines/{name}',
        method: 'DELETE',
        path: `apis/kubevirt.io/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachines/${vmName(id)}`,
        expect: [200, 202],
        responseType: 'none',
      });
    },

    // https://kubevirt.io/api-reference/main/operations.html#_v1restart (RestartOptions)
    rebootNode: (id, opts) => subresource(id, 'restart', opts?.hard ? { gracePeriodSeconds: 0 } : {}),
    // https://kubevirt.io/api-reference/main/operations.html#_v1start (StartOptions)
    startNode: (id) => subresource(id, 'start', {}),
    // https://kubevirt.io/api-reference/main/operations.html#_v1stop (StopOptions)
    stopNode: (id) => subresource(id, 'stop', {}),
  };
}

/** The VirtualMachine a CreateNodeInput asks for. */
export function vmManifest(input: CreateNodeInput, namespace: string, catalog: Pick<KubevirtCatalog, 'images' | 'sizes'>): Json {
  const fail = (field: string, message: string) => new InvalidInputError(`${field} ${message}`, { provider: DRIVER_NAME, field });
  if (typeof input.name !== 'string' || !DNS_LABEL.test(input.name)) throw fail('name', 'must be a DNS label: lower-case letters, digits and "-", at most 63');
  const size = catalog.sizes.find((s) => s.id === input.sizeId);
  if (!size) throw fail('sizeId', `is not a size of this account (${catalog.sizes.map((s) => s.id).join(', ')})`);
  const image = catalog.images.find((i) => i.id === input.imageId);
  if (!image) throw fail('imageId', 'is not an image of this account (see listImages, or options.images)');
  if (input.locationId !== undefined && input.locationId !== namespace) throw fail('locationId', "must be the account's namespace (the only location)");
  if (input.keyName !== undefined) throw fail('keyName', 'is not supported: KubeVirt has no key pairs here; pass the public key as sshKey');
  if (input.sshKey !== undefined && input.userData !== undefined) throw fail('sshKey', 'and userData cannot both be given; put the key in the cloud-config');
  if (input.sshKey !== undefined && (typeof input.sshKey !== 'string' || !/^\S+ \S+( [^\n]*)?$/.test(input.sshKey.trim()))) throw fail('sshKey', 'must be one OpenSSH public key line');
  const ex = input.ex ?? {};
  const runStrategy = ex.runStrategy ?? 'Always';
  if (!RUN_STRATEGIES.includes(runStrategy as (typeof RUN_STRATEGIES)[number])) throw fail('ex.runStrategy', `must be one of ${RUN_STRATEGIES.join(', ')}`);
  const labels = input.tags ?? {};
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) throw fail('tags', 'keys must be Kubernetes label keys ([prefix/]name, name at most 63 of letters, digits, "-", "_", ".")');
    if (typeof value !== 'string' || (value !== '' && !LABEL_NAME.test(value))) throw fail('tags', 'values must be Kubernetes label values (at most 63 of letters, digits, "-", "_", ".")');
  }
  const userData = input.sshKey !== undefined ? `#cloud-config\nssh_authorized_keys:\n  - ${input.sshKey.trim()}\n` : input.userData;
  const disks: Json[] = [{ name: 'containerdisk', disk: { bus: 'virtio' } }];
  const volumes: Json[] = [{ name: 'containerdisk', containerDisk: { image: image.containerDisk } }];
  if (userData !== undefined) {
    disks.push({ name: 'cloudinitdisk', disk: { bus: 'virtio' } });
    volumes.push({ name: 'cloudinitdisk', cloudInitNoCloud: { userData } });
  }
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: input.name, namespace, ...(Object.keys(labels).length ? { labels } : {}) },
    spec: {
      runStrategy,
      template: {
        metadata: { labels: { 'kubevirt.io/vm': input.name } },
        spec: {
          domain: {
            cpu: { cores: size.cpu },
            resources: { requests: { memory: size.memory } },
            devices: { disks, interfaces: [{ name: 'default', masquerade: {} }] },
          },
          networks: [{ name: 'default', pod: {} }],
          volumes,
        },
      },
    },
  };
}

// --- Internal helpers ---

function vmName(id: string): string {
  if (typeof id !== 'string' || !DNS_SUBDOMAIN.test(id)) throw new InvalidInputError('id must be a VirtualMachine name', { provider: DRIVER_NAME, field: 'id' });
  return encodeURIComponent(id);
}

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash === -1) return LABEL_NAME.test(key);
  return DNS_SUBDOMAIN.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}
