/**
 * The `digitalocean` (droplets), `digitalocean-lb` (load balancers) and `digitalocean-dns`
 * (domains and domain records) providers: DigitalOcean API v2 with a personal access token.
 *
 * ```yaml
 * accounts:
 *   - id: do
 *     driver: digitalocean
 *     credentials: { token: "${DIGITALOCEAN_TOKEN}" }   # or leave out: DIGITALOCEAN_TOKEN is read
 *   - id: do-lb
 *     driver: digitalocean-lb
 *     options: { region: nyc3 }                          # where createBalancer puts new balancers
 *   - id: do-dns
 *     driver: digitalocean-dns
 * ```
 *
 * The API is global (no regions in the account): one instance lists the droplets of every
 * region; a droplet's region is its location. `endpoint` replaces https://api.digitalocean.com/v2
 * (for `digitalocean-dns`, https://api.digitalocean.com: its paths carry /v2 themselves).
 * DigitalOcean Spaces is S3-compatible: use the `s3` driver (README).
 */
import { nonEmptyString, optionProblems, pageSizeOf, restConnection, validateRestAccount, waitOptionsOf, type RestApi, type RestDeps } from '../rest/account.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance, Service } from '../types.ts';
import { digitalOceanComputeDriver } from './compute.ts';
import { DRIVER_NAME as DNS_DRIVER_NAME, digitalOceanDnsDriver } from './dns.ts';
import { digitalOceanLoadBalancerDriver } from './loadbalancer.ts';

export { ALGORITHM_NAMES, BALANCER_STATE, NODE_STATE } from './mappers.ts';
export { DIGITALOCEAN_RECORD_TYPES } from './dns.ts';

export const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com/v2';
/** why: the DNS driver's endpoint has always been the API's origin, its paths starting with v2/ */
export const DIGITALOCEAN_DNS_API_URL = 'https://api.digitalocean.com';
export const DIGITALOCEAN_TOKEN_ENV = 'DIGITALOCEAN_TOKEN';
/** https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Links-and-Pagination (per_page at most 200) */
const MAX_PAGE_SIZE = 200;

/** The connection settings of each driver; `provider` is the driver name. */
export function digitalOceanApi(provider: string): RestApi {
  // https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit
  return { provider, baseUrl: DIGITALOCEAN_API_URL, tokenEnv: DIGITALOCEAN_TOKEN_ENV, resetHeader: 'ratelimit-reset' };
}

export function createDigitalOceanProvider(deps: RestDeps = {}): ProviderDefinition {
  return globalProvider('digitalocean', 'DigitalOcean Droplets', 'COMPUTE', validateDigitalOceanAccount, createDigitalOceanInstance, deps);
}

export function createDigitalOceanLbProvider(deps: RestDeps = {}): ProviderDefinition {
  return globalProvider('digitalocean-lb', 'DigitalOcean Load Balancers', 'LOADBALANCER', validateDigitalOceanLbAccount, createDigitalOceanLbInstance, deps);
}

export function createDigitalOceanDnsProvider(deps: RestDeps = {}): ProviderDefinition {
  return globalProvider(DNS_DRIVER_NAME, 'DigitalOcean DNS', 'DNS', validateDigitalOceanDnsAccount, createDigitalOceanDnsInstance, deps);
}

export const digitaloceanProvider: ProviderDefinition = createDigitalOceanProvider();
export const digitaloceanLbProvider: ProviderDefinition = createDigitalOceanLbProvider();
export const digitaloceanDnsProvider: ProviderDefinition = createDigitalOceanDnsProvider();

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

/** One `digitalocean-dns` instance (domains and domain records). */
export function createDigitalOceanDnsInstance(ctx: DriverContext, deps: RestDeps = {}): ProviderInstance {
  const conn = restConnection(ctx, digitalOceanDnsApi(), deps);
  return {
    dns: digitalOceanDnsDriver({ conn: conn.get, pageSize: pageSizeOf(deps, MAX_PAGE_SIZE) }),
    close: conn.close,
  };
}

export function validateDigitalOceanAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, digitalOceanApi('digitalocean'), env), ...optionProblems(account, 'digitalocean', {})];
}

export function validateDigitalOceanLbAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, digitalOceanApi('digitalocean-lb'), env), ...optionProblems(account, 'digitalocean-lb', { region: nonEmptyString })];
}

export function validateDigitalOceanDnsAccount(account: AccountConfig, env?: NodeJS.ProcessEnv): string[] {
  return [...validateRestAccount(account, digitalOceanDnsApi(), env), ...optionProblems(account, DNS_DRIVER_NAME, {})];
}

// --- Internal helpers ---

/** One of the DigitalOcean providers: global (no regions), `deps` handed to its validation and instances. */
function globalProvider(
  name: string,
  title: string,
  service: Service,
  validate: (account: AccountConfig, env?: NodeJS.ProcessEnv) => string[],
  create: (ctx: DriverContext, deps: RestDeps) => ProviderInstance,
  deps: RestDeps,
): ProviderDefinition {
  return { name, title, services: [service], regional: false, validate: (account) => validate(account, deps.env), create: (ctx) => create(ctx, deps) };
}

function digitalOceanDnsApi(): RestApi {
  // why: 422 unprocessable_entity answers both a name that exists and a value DigitalOcean refuses
  return { ...digitalOceanApi(DNS_DRIVER_NAME), baseUrl: DIGITALOCEAN_DNS_API_URL, inputErrors: { statuses: [422], conflict: /already exists|cannot share/i } };
}
