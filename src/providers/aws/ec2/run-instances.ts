/**
 * CreateNodeInput -> RunInstances parameters, with every provider-only option checked: what
 * EC2 cannot do is refused with the field named, never dropped.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Run_Instance_Idempotency.html
 */
import { InvalidInputError } from '../../errors.ts';
import type { CreateNodeInput } from '../../types.ts';
import { DRIVER_NAME, listParams, type Ec2Params } from './api.ts';

/** Provider-only createNode options (`input.ex`). */
export interface Ec2CreateNodeOptions {
  /** VPC security group ids (SecurityGroupId.N) */
  securityGroupIds?: string[];
  /** security group names, default VPC / EC2-Classic only (SecurityGroup.N) */
  securityGroups?: string[];
  subnetId?: string;
  /** extra tags for the instance, besides Name */
  tags?: Record<string, string>;
  /** instance profile name or ARN */
  iamInstanceProfile?: string;
  ebsOptimized?: boolean;
  /** a specific private IPv4 address in the subnet */
  privateIpAddress?: string;
}

const EX_KEYS = new Set(['securityGroupIds', 'securityGroups', 'subnetId', 'tags', 'iamInstanceProfile', 'ebsOptimized', 'privateIpAddress']);
/** user data limit before base64 encoding */
const MAX_USER_DATA = 16 * 1024;
const MAX_TOKEN = 64;

export function runInstancesParams(input: CreateNodeInput, clientToken: string): Ec2Params {
  if (input.sshKey !== undefined) {
    throw invalid(
      'sshKey',
      'EC2 cannot install a raw public key at launch; import it once with importKeyPair and pass its name as keyName',
    );
  }
  if (!input.name?.trim()) throw invalid('name', 'name must be a non-empty string');
  if (!input.imageId) throw invalid('imageId', 'imageId (an AMI id) is required');
  if (!input.sizeId) throw invalid('sizeId', 'sizeId (an instance type) is required');
  if (clientToken.length > MAX_TOKEN || !/^[\x20-\x7e]+$/.test(clientToken)) {
    throw invalid('clientToken', `clientToken must be 1 to ${MAX_TOKEN} printable ASCII characters`);
  }
  const ex = checkEx(input.ex ?? {});
  const params: Ec2Params = {
    ImageId: input.imageId,
    InstanceType: input.sizeId,
    MinCount: '1',
    MaxCount: '1',
    ClientToken: clientToken,
  };
  if (input.locationId) params['Placement.AvailabilityZone'] = input.locationId;
  if (input.keyName) params.KeyName = input.keyName;
  if (input.userData !== undefined) {
    const raw = Buffer.from(input.userData, 'utf8');
    if (raw.length > MAX_USER_DATA) throw invalid('userData', `userData must be at most ${MAX_USER_DATA} bytes`);
    params.UserData = raw.toString('base64');
  }
  Object.assign(params, listParams('SecurityGroupId', ex.securityGroupIds ?? []), listParams('SecurityGroup', ex.securityGroups ?? []));
  if (ex.subnetId) params.SubnetId = ex.subnetId;
  if (ex.iamInstanceProfile) {
    params[ex.iamInstanceProfile.startsWith('arn:') ? 'IamInstanceProfile.Arn' : 'IamInstanceProfile.Name'] = ex.iamInstanceProfile;
  }
  if (ex.ebsOptimized !== undefined) params.EbsOptimized = String(ex.ebsOptimized);
  if (ex.privateIpAddress) params.PrivateIpAddress = ex.privateIpAddress;

  const tags = { ...ex.tags, ...input.tags, Name: input.name };
  params['TagSpecification.1.ResourceType'] = 'instance';
  Object.entries(tags).forEach(([key, value], i) => {
    params[`TagSpecification.1.Tag.${i + 1}.Key`] = key;
    params[`TagSpecification.1.Tag.${i + 1}.Value`] = value;
  });
  return params;
}

// --- Internal helpers ---

function checkEx(ex: Record<string, unknown>): Ec2CreateNodeOptions {
  for (const key of Object.keys(ex)) {
    if (!EX_KEYS.has(key)) throw invalid(`ex.${key}`, `ex.${key} is not an EC2 createNode option (known: ${[...EX_KEYS].join(', ')})`);
  }
  const strings = (key: string) => {
    const v = ex[key];
    if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== ''))) {
      throw invalid(`ex.${key}`, `ex.${key} must be a list of non-empty strings`);
    }
  };
  const string = (key: string) => {
    if (ex[key] !== undefined && (typeof ex[key] !== 'string' || ex[key] === '')) throw invalid(`ex.${key}`, `ex.${key} must be a non-empty string`);
  };
  strings('securityGroupIds');
  strings('securityGroups');
  string('subnetId');
  string('iamInstanceProfile');
  string('privateIpAddress');
  if (ex.ebsOptimized !== undefined && typeof ex.ebsOptimized !== 'boolean') throw invalid('ex.ebsOptimized', 'ex.ebsOptimized must be a boolean');
  const tags = ex.tags;
  if (tags !== undefined) {
    const ok = tags !== null && typeof tags === 'object' && !Array.isArray(tags) && Object.values(tags).every((v) => typeof v === 'string');
    if (!ok) throw invalid('ex.tags', 'ex.tags must be a mapping of tag keys to string values');
    if (Object.hasOwn(tags, 'Name')) throw invalid('ex.tags', 'ex.tags must not set Name; the node name is the Name tag');
  }
  return ex as Ec2CreateNodeOptions;
}

function invalid(field: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}
