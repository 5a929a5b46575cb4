/**
 * KubeVirt objects -> skygraph models: VirtualMachine (+ its VirtualMachineInstance) -> Node, the
 * image and size catalogs, and Kubernetes resource quantities.
 */
import { isIP } from 'node:net';
import { obj, type Json } from '../rest/json.ts';
import type { Image, Node, NodeState, Size } from '../types.ts';

/** A containerDisk image the driver offers: `containerDisk` is the registry reference. */
export interface ImageSpec {
  id: string;
  name: string;
  containerDisk: string;
}

/** A size: virtual CPUs (domain.cpu.cores) and guest memory (resources.requests.memory). */
export interface SizeSpec {
  id: string;
  name: string;
  cpu: number;
  /** Kubernetes quantity, e.g. `2Gi` */
  memory: string;
}

// https://github.com/kubevirt/containerdisks (quay.io/containerdisks) and KubeVirt's demo disk
export const DEFAULT_IMAGES: readonly ImageSpec[] = [
  { id: 'cirros', name: 'CirrOS (KubeVirt demo disk)', containerDisk: 'quay.io/kubevirt/cirros-container-disk-demo:latest' },
  { id: 'fedora-41', name: 'Fedora 41', containerDisk: 'quay.io/containerdisks/fedora:41' },
  { id: 'ubuntu-24.04', name: 'Ubuntu 24.04', containerDisk: 'quay.io/containerdisks/ubuntu:24.04' },
  { id: 'centos-stream-9', name: 'CentOS Stream 9', containerDisk: 'quay.io/containerdisks/centos-stream:9' },
  { id: 'debian-12', name: 'Debian 12', containerDisk: 'quay.io/containerdisks/debian:12' },
];

export const DEFAULT_SIZES: readonly SizeSpec[] = [
  { id: 'tiny', name: 'tiny (1 vCPU, 512 MiB)', cpu: 1, memory: '512Mi' },
  { id: 'small', name: 'small (1 vCPU, 1 GiB)', cpu: 1, memory: '1Gi' },
  { id: 'medium', name: 'medium (2 vCPU, 2 GiB)', cpu: 2, memory: '2Gi' },
  { id: 'large', name: 'large (2 vCPU, 4 GiB)', cpu: 2, memory: '4Gi' },
  { id: 'xlarge', name: 'xlarge (4 vCPU, 8 GiB)', cpu: 4, memory: '8Gi' },
];

// https://kubevirt.io/api-reference/main/definitions.html#_v1_virtualmachinestatus (printableStatus)
export const PRINTABLE_STATUS: Readonly<Record<string, NodeState>> = {
  Stopped: 'stopped',
  Provisioning: 'pending',
  Starting: 'starting',
  Running: 'running',
  Paused: 'paused',
  Stopping: 'stopping',
  Terminating: 'terminated',
  CrashLoopBackOff: 'error',
  Migrating: 'migrating',
  Unknown: 'unknown',
  ErrorUnschedulable: 'error',
  ErrImagePull: 'error',
  ImagePullBackOff: 'error',
  ErrorPvcNotFound: 'error',
  ErrorDataVolumeNotFound: 'error',
  DataVolumeError: 'error',
  WaitingForVolumeBinding: 'pending',
  WaitingForReceiver: 'pending',
};

// https://kubevirt.io/api-reference/main/definitions.html#_v1_virtualmachineinstancestatus (phase)
export const VMI_PHASE: Readonly<Record<string, NodeState>> = {
  Pending: 'pending',
  Scheduling: 'starting',
  Scheduled: 'starting',
  Running: 'running',
  Succeeded: 'stopped',
  Failed: 'error',
  Unknown: 'unknown',
};

const QUANTITY = /^(\d+(?:\.\d+)?)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|(m|k|M|G|T|P|E)|[eE](\d+))?$/;
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Bytes in a Kubernetes quantity (`512Mi`, `1G`, `1e9`), or undefined when it is not one. */
export function quantityBytes(q: unknown): number | undefined {
  const text = typeof q === 'number' ? String(q) : q;
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * BINARY[m[2]]!;
  if (m[3]) return n * DECIMAL[m[3]]!;
  if (m[4]) return n * 10 ** Number(m[4]);
  return n;
}

export function toSize(spec: SizeSpec): Size {
  return { id: spec.id, name: spec.name, ram: Math.round(quantityBytes(spec.memory)! / 2 ** 20), disk: 0, bandwidth: null, price: null, extra: { cpu: spec.cpu, memory: spec.memory } };
}

export function toImage(spec: ImageSpec): Image {
  return { id: spec.id, name: spec.name, extra: { containerDisk: spec.containerDisk } };
}

/** A VirtualMachine and (when it runs) its VirtualMachineInstance as a Node. */
export function toNode(vm: Json, vmi: Json | undefined, catalog: { images: readonly ImageSpec[]; sizes: readonly SizeSpec[] }): Node {
  const meta = obj(vm.metadata) ?? {};
  const spec = obj(vm.spec) ?? {};
  const status = obj(vm.status) ?? {};
  const template = obj(obj(spec.template)?.spec) ?? {};
  const domain = obj(template.domain) ?? {};
  const cpu = obj(domain.cpu) ?? {};
  const vcpus = positive(cpu.cores) * positive(cpu.sockets) * positive(cpu.threads);
  const memoryBytes = quantityBytes(obj(domain.memory)?.guest) ?? quantityBytes(obj(obj(domain.resources)?.requests)?.memory);
  const memoryMiB = memoryBytes === undefined ? undefined : Math.round(memoryBytes / 2 ** 20);
  const containerDisk = Array.isArray(template.volumes)
    ? template.volumes.map((v) => str(obj(obj(v)?.containerDisk)?.image)).find((i) => i !== undefined)
    : undefined;
  const size = catalog.sizes.find((s) => s.cpu === vcpus && Math.round(quantityBytes(s.memory)! / 2 ** 20) === memoryMiB);
  const image = containerDisk === undefined ? undefined : catalog.images.find((i) => sameImage(i.containerDisk, containerDisk));
  const vmiStatus = obj(vmi?.status) ?? {};
  const { publicIps, privateIps } = addresses(vmiStatus.interfaces);
  const name = str(meta.name) ?? '';
  const labels = obj(meta.labels) ?? {};
  const created = str(meta.creationTimestamp);
  const instancetype = str(obj(spec.instancetype)?.name);
  return {
    id: name,
    name,
    state: nodeState(vm, vmi),
    publicIps,
    privateIps,
    sizeId: size?.id ?? null,
    imageId: image?.id ?? null,
    locationId: str(meta.namespace) ?? null,
    createdAt: created && !Number.isNaN(Date.parse(created)) ? new Date(created) : null,
    tags: Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string')),
    extra: strip({
      uid: str(meta.uid),
      namespace: str(meta.namespace),
      runStrategy: str(spec.runStrategy) ?? (typeof spec.running === 'boolean' ? (spec.running ? 'Always' : 'Halted') : undefined),
      printableStatus: str(status.printableStatus),
      ready: typeof status.ready === 'boolean' ? status.ready : undefined,
      vmiPhase: str(vmiStatus.phase),
      nodeName: str(vmiStatus.nodeName),
      containerDisk,
      cpu: vcpus,
      memoryMiB,
      instancetype,
    }),
  };
}

/** printableStatus first; without it (a VM the controller has not seen yet), the VMI phase, then the run strategy. */
export function nodeState(vm: Json, vmi: Json | undefined): NodeState {
  if (str(obj(vm.metadata)?.deletionTimestamp)) return 'terminated';
  const printable = str(obj(vm.status)?.printableStatus);
  if (printable !== undefined) return PRINTABLE_STATUS[printable] ?? 'unknown';
  const phase = str(obj(vmi?.status)?.phase);
  if (phase !== undefined) return VMI_PHASE[phase] ?? 'unknown';
  const spec = obj(vm.spec) ?? {};
  const strategy = str(spec.runStrategy) ?? (spec.running === true ? 'Always' : 'Halted');
  return strategy === 'Halted' || strategy === 'Manual' ? 'stopped' : 'pending';
}

/** A non-empty string (Kubernetes names are never numbers), else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

// --- Internal helpers ---

function positive(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 1;
}

/** `repo` and `repo:latest` name the same image. */
function sameImage(a: string, b: string): boolean {
  const norm = (r: string) => (/:[^/]+$|@/.test(r) ? r : `${r}:latest`);
  return norm(a) === norm(b);
}

/** why: pod-network addresses are private; only addresses outside the private ranges count as public */
function addresses(interfaces: unknown): { publicIps: string[]; privateIps: string[] } {
  const publicIps: string[] = [];
  const privateIps: string[] = [];
  for (const iface of Array.isArray(interfaces) ? interfaces : []) {
    const o = obj(iface) ?? {};
    const ips = Array.isArray(o.ipAddresses) ? o.ipAddresses : [o.ipAddress];
    for (const raw of ips) {
      const ip = typeof raw === 'string' ? raw.replace(/\/\d+$/, '') : '';
      if (!isIP(ip)) continue;
      const list = isPrivate(ip) ? privateIps : publicIps;
      if (!list.includes(ip)) list.push(ip);
    }
  }
  return { publicIps, privateIps };
}

function isPrivate(ip: string): boolean {
  if (isIP(ip) === 6) return /^(f[cd]|fe[89ab])/i.test(ip) || ip === '::1';
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128);
}

function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
