/**
 * The `elb` provider: AWS Classic Load Balancers (Elastic Load Balancing API 2012-06-01).
 *
 * ```yaml
 * accounts:
 *   - id: aws-classic
 *     driver: elb
 *     regions: [us-east-1, eu-west-1]
 *     credentials: { accessKeyId: ${AWS_ACCESS_KEY_ID}, secretAccessKey: ${AWS_SECRET_ACCESS_KEY} }
 *     options:
 *       availabilityZones: [us-east-1a, us-east-1b]   # or subnets: [subnet-…]; defaults for createBalancer
 * ```
 */
import type { AccountConfig, ProviderDefinition } from '../../types.ts';
import { DEFAULT_REGION, checkStringListOptions, createElbApi, type ElbApiDeps } from './api.ts';
import { API_VERSION, DRIVER_NAME, elbLoadBalancerDriver, type ElbOptions } from './loadbalancer.ts';

export type { ElbOptions } from './loadbalancer.ts';

const LIST_OPTIONS = ['availabilityZones', 'subnets', 'securityGroups'] as const;

/** The registry entry; `deps` are test seams for the connection. */
export function createElbProvider(deps: ElbApiDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'AWS Classic Load Balancer',
    services: ['LOADBALANCER'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateElbAccount,
    create(ctx) {
      const api = createElbApi(ctx, { provider: DRIVER_NAME, version: API_VERSION }, deps);
      return { loadBalancer: elbLoadBalancerDriver(api, elbOptions(ctx.account), ctx.logger), close: () => api.close() };
    },
  };
}

export const elbProvider: ProviderDefinition = createElbProvider();

export function validateElbAccount(account: AccountConfig): string[] {
  const problems = checkStringListOptions(account, LIST_OPTIONS);
  if (account.options?.availabilityZones !== undefined && account.options?.subnets !== undefined) {
    problems.push('options.availabilityZones and options.subnets cannot both be set (a classic load balancer uses one or the other)');
  }
  return problems;
}

// --- Internal helpers ---

function elbOptions(account: AccountConfig): ElbOptions {
  const pick = (name: (typeof LIST_OPTIONS)[number]) => {
    const value = account.options?.[name];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : undefined;
  };
  return { availabilityZones: pick('availabilityZones'), subnets: pick('subnets'), securityGroups: pick('securityGroups') };
}
