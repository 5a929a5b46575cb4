/**
 * The `rackspace-clb` provider: Rackspace Cloud Load Balancers, API v1.0.
 *
 * ```yaml
 * accounts:
 *   - id: rax-lb
 *     driver: rackspace-clb
 *     regions: [DFW]
 *     endpoint: https://dfw.loadbalancers.api.rackspacecloud.com/v1.0/123456
 *     credentials: { token: ${RAX_TOKEN} }      # preset token
 *
 *   - id: rax-lb-key
 *     driver: rackspace-clb
 *     regions: [ORD, LON]
 *     credentials: { username: jdoe, api_key: ${RAX_API_KEY} }   # Keystone v2.0 RAX-KSKEY
 * ```
 *
 * Without `endpoint` the catalog's `rax:load-balancer` endpoint of each region is used.
 * `cloud: NAME` (options.cloud) reads the credentials from clouds.yaml on first use.
 */
import { ConflictError, RateLimitedError, type SkygraphError } from '../../errors.ts';
import type { ErrorResponseInfo, RetryOptions } from '../../http/connection.ts';
import { mapErrorResponse } from '../../http/map-errors.ts';
import { parseRetryAfter } from '../../http/retry.ts';
import { accountAuth, catalogConnection, cloudOnlyOptionProblems, validateCredentialsUnlessCloud, type OpenStackAuth } from '../../openstack/nova/auth.ts';
import { RACKSPACE_AUTH_URL, RACKSPACE_REGIONS } from '../../openstack/nova/index.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { DRIVER_NAME, clbLoadBalancerDriver } from './loadbalancer.ts';

export { BALANCER_STATE } from './loadbalancer.ts';

/** Test seams and tuning. */
export interface ClbDeps {
  retry?: Partial<RetryOptions>;
  /** used by the connection's backoff and by the waits for ACTIVE */
  sleep?: (ms: number) => Promise<void>;
  auth?: OpenStackAuth;
  pollIntervalMs?: number;
  waitTimeoutMs?: number;
  pageSize?: number;
}

export function createClbProvider(deps: ClbDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Rackspace Cloud Load Balancers',
    services: ['LOADBALANCER'],
    regional: true,
    validate: validateClbAccount,
    create: (ctx) => createClbInstance(ctx, deps),
  };
}

export const rackspaceClbProvider: ProviderDefinition = createClbProvider();

export function createClbInstance(ctx: DriverContext, deps: ClbDeps = {}): ProviderInstance {
  const auth = deps.auth ?? accountAuth(ctx, { provider: DRIVER_NAME, primaryService: 'rax:load-balancer', defaultAuthUrl: RACKSPACE_AUTH_URL });
  const conn = catalogConnection(ctx, auth, { provider: DRIVER_NAME, serviceType: 'rax:load-balancer', region: ctx.region, retry: deps.retry, sleep: deps.sleep, parseError: parseClbError });
  return {
    loadBalancer: clbLoadBalancerDriver(conn.open, { pollIntervalMs: deps.pollIntervalMs, waitTimeoutMs: deps.waitTimeoutMs, pageSize: deps.pageSize, sleep: deps.sleep, now: ctx.now }),
    close: conn.close,
  };
}

export function validateClbAccount(account: AccountConfig): string[] {
  const problems = validateCredentialsUnlessCloud(account, RACKSPACE_AUTH_URL);
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the Cloud Load Balancers endpoint, with the account number)');
  if (account.regions.length === 0) problems.push(`regions: name at least one of ${Object.keys(RACKSPACE_REGIONS).join(', ')}`);
  account.regions.forEach((r, i) => {
    if (!Object.hasOwn(RACKSPACE_REGIONS, r)) problems.push(`regions[${i}] is not a Rackspace region (${Object.keys(RACKSPACE_REGIONS).join(', ')})`);
  });
  problems.push(...cloudOnlyOptionProblems(account, DRIVER_NAME));
  return problems;
}

/** CLB answers rate limiting with 413 (OverLimit) and changes to a pending balancer with 422 (immutable). */
export function parseClbError(info: ErrorResponseInfo): SkygraphError | undefined {
  if (info.status !== 413 && info.status !== 422) return undefined;
  const base = mapErrorResponse(info, DRIVER_NAME, [], new Date());
  const message = base.message.replace(/^\[[^\]]+\] /, '');
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: base.requestId };
  if (info.status === 413) return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
  return new ConflictError(message, opts);
}
