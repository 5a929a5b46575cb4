/**
 * The `alb` provider: AWS Application Load Balancers (Elastic Load Balancing v2, API 2015-12-01).
 *
 * ```yaml
 * accounts:
 *   - id: aws-alb
 *     driver: alb
 *     regions: [us-east-1]
 *     credentials: { accessKeyId: ${AWS_ACCESS_KEY_ID}, secretAccessKey: ${AWS_SECRET_ACCESS_KEY} }
 *     options:                                  # defaults for createBalancer; ex.* overrides them
 *       subnets: [subnet-0a1b2c3d, subnet-4e5f6a7b]
 *       vpcId: vpc-0123abcd
 *       securityGroups: [sg-0123abcd]
 * ```
 */
import type { AccountConfig, ProviderDefinition } from '../../types.ts';
import { DEFAULT_REGION, checkStringListOptions, createElbApi, type ElbApiDeps } from '../elb/api.ts';
import { API_VERSION, DRIVER_NAME, albLoadBalancerDriver, type AlbOptions } from './loadbalancer.ts';

export type { AlbOptions } from './loadbalancer.ts';

/** The registry entry; `deps` are test seams for the connection. */
export function createAlbProvider(deps: ElbApiDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'AWS Application Load Balancer',
    services: ['LOADBALANCER'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateAlbAccount,
    create(ctx) {
      const api = createElbApi(ctx, { provider: DRIVER_NAME, version: API_VERSION }, deps);
      return { loadBalancer: albLoadBalancerDriver(api, albOptions(ctx.account), ctx.logger), close: () => api.close() };
    },
  };
}

export const albProvider: ProviderDefinition = createAlbProvider();

export function validateAlbAccount(account: AccountConfig): string[] {
  const problems = checkStringListOptions(account, ['subnets', 'securityGroups']);
  const vpcId = account.options?.vpcId;
  if (vpcId !== undefined && (typeof vpcId !== 'string' || vpcId.trim() === '')) problems.push('options.vpcId must be a non-empty string');
  const subnets = account.options?.subnets;
  if (Array.isArray(subnets) && subnets.length === 1) problems.push('options.subnets must name at least two subnets in different Availability Zones');
  return problems;
}

// --- Internal helpers ---

function albOptions(account: AccountConfig): AlbOptions {
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : undefined);
  const vpcId = account.options?.vpcId;
  return {
    subnets: list(account.options?.subnets),
    securityGroups: list(account.options?.securityGroups),
    vpcId: typeof vpcId === 'string' && vpcId !== '' ? vpcId : undefined,
  };
}
