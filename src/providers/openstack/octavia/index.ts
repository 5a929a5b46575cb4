/**
 * The `octavia` provider: OpenStack Octavia v2 load balancers (listeners, pools, members).
 *
 * ```yaml
 * accounts:
 *   - id: lab-lb
 *     driver: octavia
 *     regions: [RegionOne]
 *     endpoint: https://octavia.example.net:9876        # the load-balancer endpoint
 *     credentials: { token: ${OS_TOKEN} }               # preset token
 *     options:
 *       vipSubnetId: 1fc55cbc-d23e-4114-aa84-5b4211f6fa79   # default for createBalancer ex.vipSubnetId
 *       memberSubnetId: 1fc55cbc-d23e-4114-aa84-5b4211f6fa79 # optional; default the VIP subnet
 * ```
 *
 * Credentials use clouds.yaml `auth` keys (Keystone v3/v2.0, see src/providers/openstack/identity);
 * without `endpoint` the catalog's `load-balancer` endpoint of the account's region is used.
 * `cloud: NAME` (options.cloud) reads them from clouds.yaml on first use (explicit credentials
 * win; its region_name is used when the account names no region).
 */
import type { SkygraphError } from '../../errors.ts';
import type { ErrorResponseInfo, RetryOptions } from '../../http/connection.ts';
import { mapErrorResponse } from '../../http/map-errors.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { accountAuth, catalogConnection, validateCredentialsUnlessCloud, type OpenStackAuth } from '../nova/auth.ts';
import { DRIVER_NAME, octaviaLoadBalancerDriver } from './loadbalancer.ts';

export { octaviaProvisioningState } from './loadbalancer.ts';

/** Test seams and tuning. */
export interface OctaviaDeps {
  retry?: Partial<RetryOptions>;
  /** used by the connection's backoff and by the waits for ACTIVE */
  sleep?: (ms: number) => Promise<void>;
  auth?: OpenStackAuth;
  pollIntervalMs?: number;
  waitTimeoutMs?: number;
}

const OPTION_KEYS = ['cloud', 'vipSubnetId', 'memberSubnetId'];
const DEFAULT_REGION = 'RegionOne';

export function createOctaviaProvider(deps: OctaviaDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'OpenStack Octavia',
    services: ['LOADBALANCER'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateOctaviaAccount,
    create: (ctx) => createOctaviaInstance(ctx, deps),
  };
}

export const octaviaProvider: ProviderDefinition = createOctaviaProvider();

export function createOctaviaInstance(ctx: DriverContext, deps: OctaviaDeps = {}): ProviderInstance {
  const auth = deps.auth ?? accountAuth(ctx, { provider: DRIVER_NAME, primaryService: 'load-balancer', defaultRegion: DEFAULT_REGION });
  const conn = catalogConnection(ctx, auth, {
    provider: DRIVER_NAME,
    serviceType: 'load-balancer',
    region: ctx.region,
    // why: catalogs list Octavia both with and without the version; paths here carry /v2 themselves
    baseUrl: (url) => url.replace(/\/v2(\.0)?\/?$/, ''),
    retry: deps.retry,
    sleep: deps.sleep,
    parseError: parseOctaviaError,
  });
  const opt = (key: string) => (typeof ctx.account.options[key] === 'string' && ctx.account.options[key] !== '' ? (ctx.account.options[key] as string) : undefined);
  return {
    loadBalancer: octaviaLoadBalancerDriver(
      conn.open,
      { vipSubnetId: opt('vipSubnetId'), memberSubnetId: opt('memberSubnetId'), pollIntervalMs: deps.pollIntervalMs, waitTimeoutMs: deps.waitTimeoutMs, sleep: deps.sleep, now: ctx.now },
      ctx.logger,
    ),
    close: conn.close,
  };
}

export function validateOctaviaAccount(account: AccountConfig): string[] {
  const problems = validateCredentialsUnlessCloud(account, undefined);
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the load-balancer endpoint)');
  for (const [key, value] of Object.entries(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not an octavia option (known: ${OPTION_KEYS.join(', ')})`);
    else if (typeof value !== 'string' || value.trim() === '') problems.push(`options.${key} must be a non-empty string`);
  }
  return problems;
}

/** Octavia (WSME) errors are `{"faultcode": "Client", "faultstring": "...", "debuginfo": null}`. */
export function parseOctaviaError(info: ErrorResponseInfo): SkygraphError | undefined {
  let body: unknown;
  try {
    body = JSON.parse(info.bodyText);
  } catch {
    return undefined;
  }
  const fault = body && typeof body === 'object' ? (body as Record<string, unknown>).faultstring : undefined;
  if (typeof fault !== 'string') return undefined;
  return mapErrorResponse({ ...info, bodyText: JSON.stringify({ message: fault }) }, DRIVER_NAME, [], new Date());
}
