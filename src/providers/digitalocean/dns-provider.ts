/**
 * The `digitalocean-dns` provider: DigitalOcean's domains and domain records (API v2, bearer
 * token).
 *
 * ```yaml
 * accounts:
 *   - id: do-dns
 *     driver: digitalocean-dns
 *     credentials: { token: ${DIGITALOCEAN_TOKEN} }
 *     # endpoint: https://api.digitalocean.com   (default)
 * ```
 */
import { ConflictError, InvalidInputError, RateLimitedError, type SkygraphError } from '../errors.ts';
import { createConnection, type Connection, type ErrorResponseInfo, type RetryOptions } from '../http/connection.ts';
import { mapErrorResponse } from '../http/map-errors.ts';
import { parseRetryAfter } from '../http/retry.ts';
import { bearerSigner, staticToken } from '../http/signers/bearer.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { DRIVER_NAME, digitalOceanDnsDriver } from './dns.ts';

export { DIGITALOCEAN_RECORD_TYPES, DRIVER_NAME } from './dns.ts';

export const DIGITALOCEAN_ENDPOINT = 'https://api.digitalocean.com';

/** Test seams. */
export interface DigitalOceanDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  /** items per page (default 200) */
  pageSize?: number;
}

export function createDigitalOceanDnsProvider(deps: DigitalOceanDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'DigitalOcean DNS',
    services: ['DNS'],
    regional: false,
    validate: validateDigitalOceanAccount,
    create: (ctx) => createDigitalOceanDnsInstance(ctx, deps),
  };
}

export const digitalOceanDnsProvider: ProviderDefinition = createDigitalOceanDnsProvider();

/** One account's driver; `ctx.account.endpoint` overrides https://api.digitalocean.com (paths start with /v2). */
export function createDigitalOceanDnsInstance(ctx: DriverContext, deps: DigitalOceanDeps = {}): ProviderInstance {
  let conn: Connection | undefined;
  const open = async () =>
    (conn ??= createConnection({
      provider: DRIVER_NAME,
      baseUrl: ctx.account.endpoint ?? DIGITALOCEAN_ENDPOINT,
      signer: bearerSigner(staticToken(ctx.account.credentials.token ?? '')),
      recordCall: ctx.recordCall,
      now: ctx.now,
      retry: deps.retry,
      sleep: deps.sleep,
      parseError: (info) => parseDigitalOceanError(info, ctx.now()),
      defaults: ctx.http,
    }));
  return {
    dns: digitalOceanDnsDriver(open, { pageSize: deps.pageSize ?? 200 }),
    close: async () => {
      await conn?.close();
    },
  };
}

export function validateDigitalOceanAccount(account: AccountConfig): string[] {
  const problems: string[] = [];
  if (typeof account.credentials.token !== 'string' || account.credentials.token === '') problems.push('credentials.token is required (a DigitalOcean API token)');
  for (const k of Object.keys(account.credentials)) if (k !== 'token') problems.push(`credentials.${k} is not a digitalocean-dns credential (it takes only token)`);
  if (account.endpoint !== undefined && !(URL.canParse(account.endpoint) && /^https?:$/.test(new URL(account.endpoint).protocol))) problems.push('endpoint must be an absolute http(s) URL');
  if (account.regions.length) problems.push('regions: digitalocean-dns has no regions');
  for (const k of Object.keys(account.options)) problems.push(`options.${k} is not a digitalocean-dns option (it takes none)`);
  return problems;
}

/**
 * 422 splits into ConflictError and InvalidInputError by its message. DigitalOcean announces when its rate limit resets (`ratelimit-reset`, epoch seconds) rather
 * than a Retry-After; a 429 waits until then.
 *
 * https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit
 */
export function parseDigitalOceanError(info: ErrorResponseInfo, now: Date): SkygraphError | undefined {
  if (info.status !== 429 && info.status !== 422) return undefined;
  const base = mapErrorResponse(info, DRIVER_NAME, [], now);
  if (info.status === 422) {
    // why: 422 (unprocessable_entity) is both "exists already" and "this input is wrong"; only the message tells them apart
    const message = base.message.replace(/^\[[^\]]+\] /, '');
    const opts = { provider: DRIVER_NAME, status: 422, requestId: base.requestId };
    return /already exists|cannot share/i.test(message) ? new ConflictError(message, opts) : new InvalidInputError(message, opts);
  }
  const reset = Number(info.headers['ratelimit-reset']);
  const retryAfterMs = parseRetryAfter(info.headers['retry-after'], now) ?? (Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now.getTime()) : undefined);
  return new RateLimitedError(base.message.replace(/^\[[^\]]+\] /, ''), { provider: DRIVER_NAME, status: 429, requestId: base.requestId, retryAfterMs });
}
