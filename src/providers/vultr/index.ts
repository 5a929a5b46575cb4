/**
 * The `vultr` (instances) and `vultr-lb` (load balancers) providers: Vultr API v2 with an API key
 * sent as a bearer token.
 *
 * ```yaml
 * accounts:
 *   - id: vultr
 *     driver: vultr
 *     credentials: { token: "${VULTR_API_KEY}" }    # or leave out: VULTR_API_KEY is read
 *   - id: vultr-lb
 *     driver: vultr-lb
 *     options: { region: ewr }                        # where createBalancer puts new balancers
 * ```
 *
 * The API is global (no regions in the account); an instance's region is its location.
 * `endpoint` replaces https://api.vultr.com/v2.
 */
import { nonEmptyString, optionProblems, pageSizeOf, restConnection, validateRestAccount, type RestApi, type RestDeps } from '../rest/account.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { vultrComputeDriver } from './compute.ts';
import { vultrLoadBalancerDriver } from './loadbalancer.ts';

export { ALGORITHM_NAMES, BALANCER_STATE, NODE_STATE, toNodeState } from './mappers.ts';

export const VULTR_API_URL = 'https://api.vultr.com/v2';
export const VULTR_TOKEN_ENV = 'VULTR_API_KEY';
/** https://www.vultr.com/api/#section/Introduction/Meta-and-Pagination (per_page at most 500) */
const MAX_PAGE_SIZE = 500;

export function vultrApi(provider: string): RestApi {
  // https://www.vultr.com/api/ (rate limit): Vultr documents no reset header; a 429's Retry-After is honoured
  return { provider, baseUrl: VULTR_API_URL, tokenEnv: VULTR_TOKEN_ENV };
}

export function createVultrProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'vultr',
    title: 'Vultr',
    services: ['COMPUTE'],
    regional: false,
    validate: (account) => validateVultrAccount(account, deps.env),
    create: (ctx) => createVultrInstance(ctx, deps),
  };
}

export function createVultrLbProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'vultr-lb',
    title: 'Vultr Load Balancers',
    services: ['LOADBALANCER'],
    regional: false,
    validate: (account) => validateVultrLbAccount(account, deps.env),
    create: (ctx) => createVultrLbInstance(ctx, deps),
  };
}

export const vultrProvider: ProviderDefinition = createVultrProvider();
export const vultrLbProvider: ProviderDefinition = createVultrLbProvider();

/** One `vultr` instance (compute). */
export function createVultrInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = vultrApi('vultr');
  const conn = restConnection(ctx, api, deps);
  return { compute: vultrComputeDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE) }), close: conn.close };
}

/** One `vultr-lb` instance (load balancers). */
export function createVultrLbInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = vultrApi('vultr-lb');
  const conn = restConnection(ctx, api, deps);
  const region = ctx.account.options.region;
  return {
    loadBalancer: vultrLoadBalancerDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE), region: typeof region === 'string' ? region : undefined }),
    close: conn.close,
  };
}

export function validateVultrAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, vultrApi('vultr'), env), ...optionProblems(account, 'vultr', {})];
}

export function validateVultrLbAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, vultrApi('vultr-lb'), env), ...optionProblems(account, 'vultr-lb', { region: nonEmptyString })];
}
