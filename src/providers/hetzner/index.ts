/**
 * The `hetzner` (servers) and `hetzner-lb` (load balancers) providers: Hetzner Cloud API v1 with
 * a project API token.
 *
 * ```yaml
 * accounts:
 *   - id: hetzner
 *     driver: hetzner
 *     credentials: { token: "${HCLOUD_TOKEN}" }    # or leave out: HCLOUD_TOKEN is read
 *   - id: hetzner-lb
 *     driver: hetzner-lb
 *     options: { location: fsn1, loadBalancerType: lb11 }
 * ```
 *
 * The API is global to the project (no regions in the account); a server's location is its
 * location. `endpoint` replaces https://api.hetzner.cloud/v1. Sizes are priced in EUR, as
 * Hetzner bills.
 */
import { nonEmptyString, optionProblems, pageSizeOf, restConnection, validateRestAccount, waitOptionsOf, type RestApi, type RestDeps } from '../rest/account.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { hetznerActions } from './actions.ts';
import { hetznerComputeDriver } from './compute.ts';
import { hetznerLoadBalancerDriver } from './loadbalancer.ts';

export { ALGORITHM_NAMES, NODE_STATE } from './mappers.ts';

export const HETZNER_API_URL = 'https://api.hetzner.cloud/v1';
export const HETZNER_TOKEN_ENV = 'HCLOUD_TOKEN';
/** https://docs.hetzner.cloud/reference/cloud#pagination (per_page at most 50) */
const MAX_PAGE_SIZE = 50;
const DEFAULT_LB_TYPE = 'lb11';

export function hetznerApi(provider: string): RestApi {
  // https://docs.hetzner.cloud/reference/cloud#rate-limiting
  // https://docs.hetzner.cloud/reference/cloud#errors (protected is a 403, locked a 423)
  return { provider, baseUrl: HETZNER_API_URL, tokenEnv: HETZNER_TOKEN_ENV, resetHeader: 'ratelimit-reset', conflictCodes: ['protected', 'locked', 'uniqueness_error', 'conflict'] };
}

export function createHetznerProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'hetzner',
    title: 'Hetzner Cloud',
    services: ['COMPUTE'],
    regional: false,
    validate: (account) => validateHetznerAccount(account, deps.env),
    create: (ctx) => createHetznerInstance(ctx, deps),
  };
}

export function createHetznerLbProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'hetzner-lb',
    title: 'Hetzner Cloud Load Balancers',
    services: ['LOADBALANCER'],
    regional: false,
    validate: (account) => validateHetznerLbAccount(account, deps.env),
    create: (ctx) => createHetznerLbInstance(ctx, deps),
  };
}

export const hetznerProvider: ProviderDefinition = createHetznerProvider();
export const hetznerLbProvider: ProviderDefinition = createHetznerLbProvider();

/** One `hetzner` instance (compute). */
export function createHetznerInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = hetznerApi('hetzner');
  const conn = restConnection(ctx, api, deps);
  const actions = hetznerActions(conn.get, waitOptionsOf(ctx, deps, api.provider));
  return { compute: hetznerComputeDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE), actions }), close: conn.close };
}

/** One `hetzner-lb` instance (load balancers). */
export function createHetznerLbInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = hetznerApi('hetzner-lb');
  const conn = restConnection(ctx, api, deps);
  const actions = hetznerActions(conn.get, waitOptionsOf(ctx, deps, api.provider));
  const { location, loadBalancerType } = ctx.account.options;
  return {
    loadBalancer: hetznerLoadBalancerDriver({
      provider: api.provider,
      conn: conn.get,
      pageSize: pageSizeOf(deps, MAX_PAGE_SIZE),
      actions,
      location: typeof location === 'string' ? location : undefined,
      loadBalancerType: typeof loadBalancerType === 'string' ? loadBalancerType : DEFAULT_LB_TYPE,
    }),
    close: conn.close,
  };
}

export function validateHetznerAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, hetznerApi('hetzner'), env), ...optionProblems(account, 'hetzner', {})];
}

export function validateHetznerLbAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [
    ...validateRestAccount(account, hetznerApi('hetzner-lb'), env),
    ...optionProblems(account, 'hetzner-lb', { location: nonEmptyString, loadBalancerType: nonEmptyString }),
  ];
}
