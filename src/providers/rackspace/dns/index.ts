/**
 * The `rackspace-dns` provider: Rackspace Cloud DNS, API v1.0 (global: no regions).
 *
 * ```yaml
 * accounts:
 *   - id: rax-dns
 *     driver: rackspace-dns
 *     credentials: { username: jdoe, api_key: ${RAX_API_KEY} }   # Keystone v2.0 RAX-KSKEY
 *   - id: rax-dns-token
 *     driver: rackspace-dns
 *     endpoint: https://dns.api.rackspacecloud.com/v1.0/123456
 *     credentials: { token: ${RAX_TOKEN} }                       # preset token
 * ```
 *
 * Without `endpoint` the catalog's `rax:dns` endpoint is used.
 */
import { RateLimitedError, type SkygraphError } from '../../errors.ts';
import type { ErrorResponseInfo, RetryOptions } from '../../http/connection.ts';
import { mapErrorResponse } from '../../http/map-errors.ts';
import { parseRetryAfter } from '../../http/retry.ts';
import { accountAuth, catalogConnection, cloudOnlyOptionProblems, validateCredentialsUnlessCloud, type OpenStackAuth } from '../../openstack/nova/auth.ts';
import { RACKSPACE_AUTH_URL } from '../../openstack/nova/index.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { DRIVER_NAME, rackspaceDnsDriver } from './dns.ts';
import { sleep as callSleep } from '../../call-scope.ts';

export { DRIVER_NAME, RACKSPACE_RECORD_TYPES } from './dns.ts';

/** Test seams and tuning. */
export interface RackspaceDnsDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  auth?: OpenStackAuth;
  /** items per page (default 100, the API's most) */
  pageSize?: number;
  /** between polls of a job (default 1000) */
  pollIntervalMs?: number;
  /** the most one job is waited for (default 120000) */
  waitTimeoutMs?: number;
}

export function createRackspaceDnsProvider(deps: RackspaceDnsDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Rackspace Cloud DNS',
    services: ['DNS'],
    regional: false,
    validate: validateRackspaceDnsAccount,
    create: (ctx) => createRackspaceDnsInstance(ctx, deps),
  };
}

export const rackspaceDnsProvider: ProviderDefinition = createRackspaceDnsProvider();

/** One account; `ctx.account.endpoint`, when set, is the Cloud DNS endpoint with the account number. */
export function createRackspaceDnsInstance(ctx: DriverContext, deps: RackspaceDnsDeps = {}): ProviderInstance {
  const auth = deps.auth ?? accountAuth(ctx, { provider: DRIVER_NAME, primaryService: 'rax:dns', defaultAuthUrl: RACKSPACE_AUTH_URL });
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = deps.sleep ?? callSleep;
  const conn = catalogConnection(ctx, auth, { provider: DRIVER_NAME, serviceType: 'rax:dns', region: undefined, retry: deps.retry, sleep: deps.sleep, parseError: parseRackspaceDnsError });
  return {
    dns: rackspaceDnsDriver(conn.open, { pageSize: deps.pageSize ?? 100, pollIntervalMs: deps.pollIntervalMs ?? 1000, waitTimeoutMs: deps.waitTimeoutMs ?? 120_000, sleep, now: ctx.now }),
    close: conn.close,
  };
}

export function validateRackspaceDnsAccount(account: AccountConfig): string[] {
  const problems = validateCredentialsUnlessCloud(account, RACKSPACE_AUTH_URL);
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the Cloud DNS endpoint, with the account number)');
  if (account.regions.length) problems.push('regions: Cloud DNS is global and takes no regions');
  problems.push(...cloudOnlyOptionProblems(account, DRIVER_NAME));
  return problems;
}

/** Cloud DNS answers rate limiting with 413 (overLimit) and a Retry-After. */
export function parseRackspaceDnsError(info: ErrorResponseInfo): SkygraphError | undefined {
  if (info.status !== 413) return undefined;
  const base = mapErrorResponse(info, DRIVER_NAME, [], new Date());
  return new RateLimitedError(base.message.replace(/^\[[^\]]+\] /, ''), { provider: DRIVER_NAME, status: 413, requestId: base.requestId, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
}
