/**
 * CreateNodeInput -> the Instance resource of instances.insert. Every check names its field and
 * runs before anything is sent.
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert
 * https://cloud.google.com/compute/docs/labeling-resources#requirements
 */
import { InvalidInputError } from '../../errors.ts';
import type { CreateNodeInput } from '../../types.ts';
import { PROJECT_ID } from '../auth.ts';
import { checkName, RESOURCE_NAME } from './api.ts';

/** The `ex` parameters createNode takes. */
export interface GceCreateNodeOptions {
  /** VPC network name (default `default`) */
  network?: string;
  /** subnetwork name in the node's region (custom-mode networks) */
  subnetwork?: string;
  /** give the node an ephemeral external IPv4 address (default true) */
  externalIp?: boolean;
  /** boot disk size in GB (default: the image's size) */
  diskSizeGb?: number;
  /** boot disk type: pd-standard, pd-balanced, pd-ssd... (default: Compute Engine's pd-standard) */
  diskType?: string;
  /** network tags (firewall rules match them) */
  networkTags?: string[];
  /** extra metadata items (startup scripts, OS Login...) */
  metadata?: Record<string, string>;
  /** labels, overridden by `tags` */
  labels?: Record<string, string>;
  /** Spot-like preemptible scheduling */
  preemptible?: boolean;
  /** the Linux user the sshKey is installed for (default `skygraph`) */
  sshUser?: string;
}

const EX_KEYS = ['network', 'subnetwork', 'externalIp', 'diskSizeGb', 'diskType', 'networkTags', 'metadata', 'labels', 'preemptible', 'sshUser'];
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MACHINE_TYPE = /^[a-z][a-z0-9-]{0,62}$/;

/** The instance body, for `zone` of `region` in `project`. */
export function instanceBody(input: CreateNodeInput, zone: string, region: string, provider: string): Record<string, unknown> {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  const name = checkName(input.name, provider, 'name');
  if (typeof input.sizeId !== 'string' || !MACHINE_TYPE.test(input.sizeId)) throw fail('sizeId', 'sizeId must be a machine type name (like e2-small)');
  const sourceImage = imageSource(input.imageId, provider);
  const ex = input.ex ?? {};
  for (const key of Object.keys(ex)) if (!EX_KEYS.includes(key)) throw fail(`ex.${key}`, `ex.${key} is not a gce createNode option (known: ${EX_KEYS.join(', ')})`);
  const opt = ex as GceCreateNodeOptions;
  const labels = { ...stringRecord(opt.labels, 'ex.labels', provider), ...stringRecord(input.tags, 'tags', provider) };
  const labelField = input.tags && Object.keys(input.tags).length ? 'tags' : 'ex.labels';
  if (Object.keys(labels).length > 64) throw fail(labelField, `${labelField}: at most 64 labels`);
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k)) throw fail(labelField, `${labelField}: label keys are 1 to 63 lower-case letters, digits, _ or -, starting with a letter`);
    if (!LABEL_VALUE.test(v)) throw fail(labelField, `${labelField}: label values are at most 63 lower-case letters, digits, _ or -`);
  }
  const network = opt.network === undefined ? 'default' : checkName(opt.network, provider, 'ex.network');
  const subnetwork = opt.subnetwork === undefined ? undefined : checkName(opt.subnetwork, provider, 'ex.subnetwork');
  if (opt.externalIp !== undefined && typeof opt.externalIp !== 'boolean') throw fail('ex.externalIp', 'ex.externalIp must be true or false');
  if (opt.preemptible !== undefined && typeof opt.preemptible !== 'boolean') throw fail('ex.preemptible', 'ex.preemptible must be true or false');
  if (opt.diskSizeGb !== undefined && (!Number.isInteger(opt.diskSizeGb) || opt.diskSizeGb < 1 || opt.diskSizeGb > 65536)) {
    throw fail('ex.diskSizeGb', 'ex.diskSizeGb must be an integer from 1 to 65536');
  }
  const diskType = opt.diskType === undefined ? undefined : checkName(opt.diskType, provider, 'ex.diskType');
  const networkTags = opt.networkTags ?? [];
  if (!Array.isArray(networkTags) || networkTags.some((t) => typeof t !== 'string' || !RESOURCE_NAME.test(t))) {
    throw fail('ex.networkTags', 'ex.networkTags must be a list of lower-case names (letters, digits, hyphens)');
  }
  const metadata = stringRecord(opt.metadata, 'ex.metadata', provider);
  if (input.sshKey !== undefined) {
    if (typeof input.sshKey !== 'string' || !/^(ssh|ecdsa)-[\w@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(input.sshKey.trim())) throw fail('sshKey', 'sshKey must be an OpenSSH public key line');
    const user = opt.sshUser ?? 'skygraph';
    if (typeof user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw fail('ex.sshUser', 'ex.sshUser must be a Linux user name');
    metadata['ssh-keys'] = `${user}:${input.sshKey.trim()}`;
  }
  if (input.userData !== undefined) {
    if (typeof input.userData !== 'string') throw fail('userData', 'userData must be a string (a startup script)');
    metadata['startup-script'] = input.userData;
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > 512 * 1024) throw fail('ex.metadata', 'metadata (with sshKey and userData) must stay under 512 KiB');

  return {
    name,
    machineType: `zones/${zone}/machineTypes/${input.sizeId}`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage,
          ...(opt.diskSizeGb !== undefined ? { diskSizeGb: String(opt.diskSizeGb) } : {}),
          ...(diskType ? { diskType: `zones/${zone}/diskTypes/${diskType}` } : {}),
        },
      },
    ],
    networkInterfaces: [
      {
        network: `global/networks/${network}`,
        ...(subnetwork ? { subnetwork: `regions/${region}/subnetworks/${subnetwork}` } : {}),
        ...(opt.externalIp === false ? {} : { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }),
      },
    ],
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(metadata).length ? { metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) } } : {}),
    ...(networkTags.length ? { tags: { items: networkTags } } : {}),
    ...(opt.preemptible ? { scheduling: { preemptible: true, automaticRestart: false, onHostMaintenance: 'TERMINATE' } } : {}),
  };
}

/**
 * An image id as sourceImage: `project/name`, `project/family/family-name` (the family's newest
 * image), or a bare name in the node's own project.
 */
export function imageSource(imageId: unknown, provider: string): string {
  const parts = typeof imageId === 'string' ? imageId.split('/') : [];
  const ok = (p: string | undefined) => p !== undefined && RESOURCE_NAME.test(p);
  const project = (p: string | undefined) => p !== undefined && PROJECT_ID.test(p);
  if (parts.length === 1 && ok(parts[0])) return `global/images/${parts[0]}`;
  if (parts.length === 2 && project(parts[0]) && ok(parts[1])) return `projects/${parts[0]}/global/images/${parts[1]}`;
  if (parts.length === 3 && project(parts[0]) && parts[1] === 'family' && ok(parts[2])) return `projects/${parts[0]}/global/images/family/${parts[2]}`;
  throw new InvalidInputError('imageId must be project/name, project/family/name or an image name of the project', { provider, field: 'imageId' });
}

// --- Internal helpers ---

function stringRecord(value: unknown, field: string, provider: string): Record<string, string> {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new InvalidInputError(`${field} must be a mapping of names to strings`, { provider, field });
  }
  return { ...(value as Record<string, string>) };
}
