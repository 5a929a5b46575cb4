/**
 * The `designate` provider: OpenStack Designate, DNS API v2 (zones and recordsets).
 *
 * ```yaml
 * accounts:
 *   - id: lab-dns
 *     driver: designate
 *     regions: [RegionOne]
 *     credentials: { auth_url: https://keystone.example.net:5000/v3, username: demo, password: ${OS_PASSWORD}, project_name: demo, user_domain_name: Default, project_domain_name: Default }
 *     # or: endpoint: https://dns.example.net:9001 with credentials: { token: ${OS_TOKEN} }
 * ```
 *
 * Credentials use clouds.yaml `auth` keys (Keystone v3/v2.0, see src/providers/openstack/identity);
 * without `endpoint` the catalog's `dns` endpoint of the account's region is used.
 * `cloud: NAME` (options.cloud) reads them from clouds.yaml on first use.
 */
import { InvalidInputError, type SkygraphError } from '../../errors.ts';
import type { ErrorResponseInfo, RetryOptions } from '../../http/connection.ts';
import { mapErrorResponse } from '../../http/map-errors.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { accountAuth, catalogConnection, cloudOnlyOptionProblems, validateCredentialsUnlessCloud, type OpenStackAuth } from '../nova/auth.ts';
import { DRIVER_NAME, designateDnsDriver } from './dns.ts';
import { sleep as callSleep } from '../../call-scope.ts';

export { DESIGNATE_RECORD_TYPES, DRIVER_NAME } from './dns.ts';

/** Test seams and tuning. */
export interface DesignateDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  auth?: OpenStackAuth;
  /** items per page (default 100) */
  pageSize?: number;
  /** between polls while a deleted zone goes (default 1000) */
  pollIntervalMs?: number;
  /** the most deleteZone waits for the zone to go (default 120000) */
  waitTimeoutMs?: number;
}

const DEFAULT_REGION = 'RegionOne';

export function createDesignateProvider(deps: DesignateDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'OpenStack Designate',
    services: ['DNS'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateDesignateAccount,
    create: (ctx) => createDesignateInstance(ctx, deps),
  };
}

export const designateProvider: ProviderDefinition = createDesignateProvider();

/** One (account, region); `ctx.account.endpoint`, when set, is the Designate endpoint (with or without /v2). */
export function createDesignateInstance(ctx: DriverContext, deps: DesignateDeps = {}): ProviderInstance {
  const auth = deps.auth ?? accountAuth(ctx, { provider: DRIVER_NAME, primaryService: 'dns', defaultRegion: DEFAULT_REGION });
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = deps.sleep ?? callSleep;
  const conn = catalogConnection(ctx, auth, {
    provider: DRIVER_NAME,
    serviceType: 'dns',
    region: ctx.region,
    // why: catalogs list Designate with and without its version; paths here carry /v2 themselves
    baseUrl: (url) => url.replace(/\/v2\/?$/, ''),
    retry: deps.retry,
    sleep: deps.sleep,
    parseError: parseDesignateError,
  });
  return {
    dns: designateDnsDriver(conn.open, { pageSize: deps.pageSize ?? 100, pollIntervalMs: deps.pollIntervalMs ?? 1000, waitTimeoutMs: deps.waitTimeoutMs ?? 120_000, sleep, now: ctx.now }),
    close: conn.close,
  };
}

export function validateDesignateAccount(account: AccountConfig): string[] {
  const problems = validateCredentialsUnlessCloud(account, undefined);
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the Designate endpoint)');
  problems.push(...cloudOnlyOptionProblems(account, DRIVER_NAME));
  return problems;
}

/** Designate answers invalid input with 400 (`invalid_object`, `invalid_ttl`...): the caller's fault, not the provider's. */
export function parseDesignateError(info: ErrorResponseInfo): SkygraphError | undefined {
  if (info.status !== 400) return undefined;
  const base = mapErrorResponse(info, DRIVER_NAME, [], new Date());
  return new InvalidInputError(base.message.replace(/^\[[^\]]+\] /, ''), { provider: DRIVER_NAME, status: 400, requestId: base.requestId });
}
