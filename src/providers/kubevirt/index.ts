/**
 * The `kubevirt` provider: KubeVirt VirtualMachines (kubevirt.io/v1) of one namespace as compute
 * nodes, over the Kubernetes API with an X.509 client certificate or a bearer token. (Kubernetes
 * dropped Basic auth in 1.19, and kubeconfig exec/auth-provider plugins are not run.)
 *
 * ```yaml
 * accounts:
 *   - id: lab-vms
 *     driver: kubevirt
 *     options:
 *       kubeconfig: ~/.kube/config     # current-context, or:
 *       context: lab                    # optional
 *       namespace: vms                  # default: the context's namespace, else "default"
 *
 *   - id: lab-vms-explicit
 *     driver: kubevirt
 *     endpoint: https://k8s.example.net:6443
 *     credentials:
 *       clientCertificateData: ${K8S_CLIENT_CERT_B64}   # base64 PEM, as kubeconfig's *-data
 *       clientKeyData: ${K8S_CLIENT_KEY_B64}
 *       certificateAuthorityData: ${K8S_CA_B64}
 *       # or token: ${K8S_TOKEN}
 *     options:
 *       namespace: vms
 *       images: [{ id: fedora, name: Fedora 41, containerDisk: quay.io/containerdisks/fedora:41 }]
 *       sizes: [{ id: small, cpu: 1, memory: 2Gi }]
 * ```
 *
 * Explicit endpoint, credentials and options win over the kubeconfig field by field. Files:
 * options.clientCertificate, clientKey, certificateAuthority, tokenFile; tlsServerName and
 * insecureSkipTlsVerify as kubeconfig's tls-server-name and insecure-skip-tls-verify.
 */
import { statSync } from 'node:fs';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { DRIVER_NAME, createKubeApi, type KubevirtDeps } from './api.ts';
import { kubevirtComputeDriver, type KubevirtCatalog } from './compute.ts';
import { CREDENTIAL_KEYS, FILE_OPTIONS, expandHome, resolveKubeTarget } from './kubeconfig.ts';
import { DEFAULT_IMAGES, DEFAULT_SIZES, quantityBytes, type ImageSpec, type SizeSpec } from './mappers.ts';

export { DRIVER_NAME, parseKubeStatus, type KubevirtDeps } from './api.ts';
export { vmManifest } from './compute.ts';
export { DEFAULT_IMAGES, DEFAULT_SIZES, PRINTABLE_STATUS, VMI_PHASE } from './mappers.ts';

const STRING_OPTIONS = ['kubeconfig', 'context', 'namespace', 'tlsServerName', ...FILE_OPTIONS];
const OPTION_KEYS = [...STRING_OPTIONS, 'insecureSkipTlsVerify', 'images', 'sizes'];
const DEFAULT_PAGE_SIZE = 500;

export function createKubevirtProvider(deps: KubevirtDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'KubeVirt',
    services: ['COMPUTE'],
    regional: false,
    validate: validateKubevirtAccount,
    create: (ctx) => createKubevirtInstance(ctx, deps),
  };
}

export const kubevirtProvider: ProviderDefinition = createKubevirtProvider();

/** One account's instance; the connection opens on first use. */
export function createKubevirtInstance(ctx: DriverContext, deps: KubevirtDeps = {}): ProviderInstance {
  const api = createKubeApi(ctx, deps);
  const catalog: KubevirtCatalog = {
    images: parseImages(ctx.account.options.images) ?? DEFAULT_IMAGES,
    sizes: parseSizes(ctx.account.options.sizes) ?? DEFAULT_SIZES,
    pageSize: deps.pageSize ?? DEFAULT_PAGE_SIZE,
  };
  return { compute: kubevirtComputeDriver(api.open, catalog), close: api.close };
}

/** Problems with an account, naming fields and never their values. */
export function validateKubevirtAccount(account: AccountConfig): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not a kubevirt option (known: ${OPTION_KEYS.join(', ')})`);
    else if (STRING_OPTIONS.includes(key) && (typeof value !== 'string' || value === '')) problems.push(`options.${key} must be a non-empty string`);
    else if (key === 'insecureSkipTlsVerify' && typeof value !== 'boolean') problems.push('options.insecureSkipTlsVerify must be true or false');
  }
  for (const key of Object.keys(account.credentials)) {
    if (!(CREDENTIAL_KEYS as readonly string[]).includes(key)) problems.push(`credentials.${key} is not a kubevirt credential (known: ${CREDENTIAL_KEYS.join(', ')})`);
  }
  if (account.options.images !== undefined && !parseImages(account.options.images)) {
    problems.push('options.images must be a non-empty list of { id, name?, containerDisk } with unique ids');
  }
  if (account.options.sizes !== undefined && !parseSizes(account.options.sizes)) {
    problems.push('options.sizes must be a non-empty list of { id, name?, cpu (whole number >= 1), memory (a quantity such as 2Gi) } with unique ids');
  }
  for (const key of FILE_OPTIONS) {
    const path = account.options[key];
    if (typeof path === 'string' && path !== '' && !isFile(path)) problems.push(`options.${key} is not a readable file`);
  }
  if (problems.length > 0) return problems;
  return resolveKubeTarget(account).problems;
}

// --- Internal helpers ---

function isFile(path: string): boolean {
  try {
    return statSync(expandHome(path)).isFile();
  } catch {
    return false;
  }
}

function parseImages(value: unknown): ImageSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: ImageSpec[] = [];
  for (const v of value) {
    const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    if (typeof o.id !== 'string' || o.id === '' || typeof o.containerDisk !== 'string' || !/^[^\s]+$/.test(o.containerDisk)) return undefined;
    if (o.name !== undefined && typeof o.name !== 'string') return undefined;
    out.push({ id: o.id, name: typeof o.name === 'string' ? o.name : o.id, containerDisk: o.containerDisk });
  }
  return new Set(out.map((i) => i.id)).size === out.length ? out : undefined;
}

function parseSizes(value: unknown): SizeSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: SizeSpec[] = [];
  for (const v of value) {
    const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    const memory = typeof o.memory === 'number' ? String(o.memory) : o.memory;
    if (typeof o.id !== 'string' || o.id === '' || typeof o.cpu !== 'number' || !Number.isInteger(o.cpu) || o.cpu < 1) return undefined;
    if (typeof memory !== 'string' || !(quantityBytes(memory)! >= 2 ** 20)) return undefined;
    if (o.name !== undefined && typeof o.name !== 'string') return undefined;
    out.push({ id: o.id, name: typeof o.name === 'string' ? o.name : o.id, cpu: o.cpu, memory });
  }
  return new Set(out.map((s) => s.id)).size === out.length ? out : undefined;
}
