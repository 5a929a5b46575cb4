/**
 * The `ec2` provider: Amazon EC2 (and EC2-compatible endpoints) through the Query API, one
 * instance per (account, region).
 *
 * An account names its regions (`regions: [us-east-1, eu-west-1]`, default us-east-1); a query
 * fans out over them and a failing region fails alone. `endpoint` replaces
 * `https://ec2.<region>.amazonaws.com/` for every region (each request is still signed for its
 * own region). Credentials: `credentials.accessKeyId/secretAccessKey/sessionToken`, else the
 * AWS_* environment, else a profile (`profile:` / `credentials.profile`) from ~/.aws; resolved on
 * first use and kept.
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { createEc2Api, DEFAULT_REGION, DRIVER_NAME, type Ec2ApiDeps } from './api.ts';
import { ec2ComputeDriver } from './compute.ts';

export type { Ec2CreateNodeOptions } from './run-instances.ts';
export type { Ec2ApiDeps } from './api.ts';

const CREDENTIAL_KEYS = ['accessKeyId', 'secretAccessKey', 'sessionToken', 'profile'];
const OPTION_KEYS = ['profile'];
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export const ec2Provider: ProviderDefinition = {
  name: DRIVER_NAME,
  title: 'Amazon EC2',
  services: ['COMPUTE'],
  regional: true,
  defaultRegion: DEFAULT_REGION,
  validate: validateEc2Account,
  create: (ctx) => createEc2Instance(ctx),
};

/** One (account, region) instance; `deps` lets tests shorten retry delays or point at a temp HOME. */
export function createEc2Instance(ctx: DriverContext, deps: Ec2ApiDeps = {}): ProviderInstance {
  const api = createEc2Api(ctx, deps);
  return { compute: ec2ComputeDriver(api), close: () => api.close() };
}

/** Problems with an ec2 account, naming fields and never their values. */
export function validateEc2Account(account: AccountConfig): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(account.credentials)) {
    if (!CREDENTIAL_KEYS.includes(key)) problems.push(`credentials.${key} is not an ec2 credential (known: ${CREDENTIAL_KEYS.join(', ')})`);
  }
  const has = (key: string) => (account.credentials[key] ?? '').trim() !== '';
  if (has('accessKeyId') && !has('secretAccessKey')) problems.push('credentials.secretAccessKey is required with credentials.accessKeyId');
  if (has('secretAccessKey') && !has('accessKeyId')) problems.push('credentials.accessKeyId is required with credentials.secretAccessKey');
  if (has('sessionToken') && !has('accessKeyId')) problems.push('credentials.sessionToken needs credentials.accessKeyId and credentials.secretAccessKey');
  for (const [key, value] of Object.entries(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not an ec2 option (known: ${OPTION_KEYS.join(', ')})`);
    else if (typeof value !== 'string' || value.trim() === '') problems.push(`options.${key} must be a non-empty string`);
  }
  // why: an EC2-compatible endpoint may use its own region names; AWS itself uses this shape
  if (account.endpoint === undefined) {
    account.regions.forEach((region, i) => {
      if (!REGION_NAME.test(region)) problems.push(`regions[${i}] is not an AWS region name (like us-east-1)`);
    });
  }
  return problems;
}
