/**
 * The `digitalocean` (droplets) and `digitalocean-lb` (load balancers) providers: DigitalOcean
 * API v2 with a personal access token.
 *
 * ```yaml
 * accounts:
 *   - id: do
 *     driver: digitalocean
 *     credentials: { token: "${DIGITALOCEAN_TOKEN}" }   # or leave out: DIGITALOCEAN_TOKEN is read
 *   - id: do-lb
 *     driver: digitalocean-lb
 *     options: { region: nyc3 }                          # where createBalancer puts new balancers
 * ```
 *
 * The API is global (no regions in the account): one instance lists the droplets of every
 * region; a droplet's region is its location. `endpoint` replaces https://api.digitalocean.com/v2.
 * DigitalOcean Spaces is S3-compatible: use the `s3` driver (README).
 */
import { nonEmptyString, optionProblems, pageSizeOf, restConnection, validateRestAccount, waitOptionsOf, type RestApi, type RestDeps } from '../rest/account.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { digitalOceanComputeDriver } from './compute.ts';
import { digitalOceanLoadBalancerDriver } from './loadbalancer.ts';

export { ALGORITHM_NAMES, BALANCER_STATE, NODE_STATE } from './mappers.ts';

export const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com/v2';
export const DIGITALOCEAN_TOKEN_ENV = 'DIGITALOCEAN_TOKEN';
/** https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Links-and-Pagination (per_page at most 200) */
const MAX_PAGE_SIZE = 200;

/** The connection settings of each driver; `provider` is the driver name. */
export function digitalOceanApi(provider: string): RestApi {
  // https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit
  return { provider, baseUrl: DIGITALOCEAN_API_URL, tokenEnv: DIGITALOCEAN_TOKEN_ENV, resetHeader: 'ratelimit-reset' };
}

export function createDigitalOceanProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'digitalocean',
    title: 'DigitalOcean Droplets',
    services: ['COMPUTE'],
    regional: false,
    validate: (account) => validateDigitalOceanAccount(account, deps.env),
    create: (ctx) => createDigitalOceanInstance(ctx, deps),
  };
}

export function createDigitalOceanLbProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'digitalocean-lb',
    title: 'DigitalOcean Load Balancers',
    services: ['LOADBALANCER'],
    regional: false,
    validate: (account) => validateDigitalOceanLbAccount(account, deps.env),
    create: (ctx) => createDigitalOceanLbInstance(ctx, deps),
  };
}

export const digitaloceanProvider: ProviderDefinition = createDigitalOceanProvider();
export const digitaloceanLbProvider: ProviderDefinition = createDigitalOceanLbProvider();

/** One `digitalocean` instance (compute). */
export function createDigitalOceanInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = digitalOceanApi('digitalocean');
  const conn = restConnection(ctx, api, deps);
  return {
    compute: digitalOceanComputeDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE), wait: waitOptionsOf(ctx, deps, api.provider) }),
    close: conn.close,
  };
}

/** One `digitalocean-lb` instance (load balancers). */
export function createDigitalOceanLbInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = digitalOceanApi('digitalocean-lb');
  const conn = restConnection(ctx, api, deps);
  const region = ctx.account.options.region;
  return {
    loadBalancer: digitalOceanLoadBalancerDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE), region: typeof region === 'string' ? region : undefined }),
    close: conn.close,
  };
}

export function validateDigitalOceanAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, digitalOceanApi('digitalocean'), env), ...optionProblems(account, 'digitalocean', {})];
}

export function validateDigitalOceanLbAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, digitalOceanApi('digitalocean-lb'), env), ...optionProblems(account, 'digitalocean-lb', { region: nonEmptyString })];
}
