/**
 * The `linode` (Linodes) and `linode-lb` (NodeBalancers) providers: Linode (Akamai) API v4 with a
 * personal access token.
 *
 * ```yaml
 * accounts:
 *   - id: linode
 *     driver: linode
 *     credentials: { token: "${LINODE_TOKEN}" }    # or leave out: LINODE_TOKEN is read
 *   - id: linode-lb
 *     driver: linode-lb
 *     options: { region: us-east }                  # where createBalancer puts new NodeBalancers
 * ```
 *
 * The API is global (no regions in the account); a Linode's region is its location. `endpoint`
 * replaces https://api.linode.com/v4.
 */
import { nonEmptyString, optionProblems, pageSizeOf, restConnection, validateRestAccount, type RestApi, type RestDeps } from '../rest/account.ts';
import { list, str } from '../rest/json.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { linodeComputeDriver } from './compute.ts';
import { linodeLoadBalancerDriver } from './loadbalancer.ts';

export { ALGORITHM_NAMES, NODE_STATE } from './mappers.ts';
export { generateRootPassword } from './compute.ts';

export const LINODE_API_URL = 'https://api.linode.com/v4';
export const LINODE_TOKEN_ENV = 'LINODE_TOKEN';
/** https://techdocs.akamai.com/linode-api/reference/pagination (page_size 25 to 500) */
const MAX_PAGE_SIZE = 500;
const MIN_PAGE_SIZE = 25;

export function linodeApi(provider: string): RestApi {
  return {
    provider,
    baseUrl: LINODE_API_URL,
    tokenEnv: LINODE_TOKEN_ENV,
    // https://techdocs.akamai.com/linode-api/reference/rate-limits
    resetHeader: 'x-ratelimit-reset',
    // https://techdocs.akamai.com/linode-api/reference/errors: {"errors": [{"reason": ..., "field": ...}]}
    details(body) {
      const errors = list((body as { errors?: unknown } | undefined)?.errors);
      const reasons = errors.map((e) => (str(e.field) ? `${str(e.field)}: ${str(e.reason) ?? ''}` : str(e.reason))).filter((r): r is string => r !== undefined);
      return reasons.length ? { message: reasons.join('; ') } : undefined;
    },
  };
}

export function createLinodeProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'linode',
    title: 'Linode (Akamai)',
    services: ['COMPUTE'],
    regional: false,
    validate: (account) => validateLinodeAccount(account, deps.env),
    create: (ctx) => createLinodeInstance(ctx, deps),
  };
}

export function createLinodeLbProvider(deps: RestDeps = {}): ProviderDefinition {
  return {
    name: 'linode-lb',
    title: 'Linode NodeBalancers',
    services: ['LOADBALANCER'],
    regional: false,
    validate: (account) => validateLinodeLbAccount(account, deps.env),
    create: (ctx) => createLinodeLbInstance(ctx, deps),
  };
}

export const linodeProvider: ProviderDefinition = createLinodeProvider();
export const linodeLbProvider: ProviderDefinition = createLinodeLbProvider();

/** One `linode` instance (compute). */
export function createLinodeInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = linodeApi('linode');
  const conn = restConnection(ctx, api, deps);
  return { compute: linodeComputeDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE, MIN_PAGE_SIZE) }), close: conn.close };
}

/** One `linode-lb` instance (NodeBalancers). */
export function createLinodeLbInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const api = linodeApi('linode-lb');
  const conn = restConnection(ctx, api, deps);
  const region = ctx.account.options.region;
  return {
    loadBalancer: linodeLoadBalancerDriver({ provider: api.provider, conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE, MIN_PAGE_SIZE), region: typeof region === 'string' ? region : undefined }),
    close: conn.close,
  };
}

export function validateLinodeAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, linodeApi('linode'), env), ...optionProblems(account, 'linode', {})];
}

export function validateLinodeLbAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, linodeApi('linode-lb'), env), ...optionProblems(account, 'linode-lb', { region: nonEmptyString })];
}
