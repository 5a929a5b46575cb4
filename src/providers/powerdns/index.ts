/**
 * The `powerdns` provider: PowerDNS Authoritative Server's HTTP API v1 (DNS only).
 *
 * ```yaml
 * accounts:
 *   - id: pdns
 *     driver: powerdns
 *     endpoint: http://127.0.0.1:8081          # the webserver; /api/v1 is added unless the URL ends with it
 *     credentials: { apiKey: ${PDNS_API_KEY} } # sent as X-API-Key
 *     options:
 *       serverId: localhost                    # default
 *       nameservers: [ns1.example.net, ns2.example.net]   # NS of new zones; default none
 *       masterKind: Native                     # or Master (AXFR + NOTIFY); default Native
 *       defaultTtl: 3600                       # SOA TTL of new zones; default 3600
 * ```
 */
import { ConflictError, InvalidInputError, type SkygraphError } from '../errors.ts';
import { createConnection, type Connection, type ErrorResponseInfo, type RetryOptions } from '../http/connection.ts';
import { mapErrorResponse } from '../http/map-errors.ts';
import type { Signer } from '../http/types.ts';
import { MAX_TTL } from '../dns/records.ts';
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../types.ts';
import { DRIVER_NAME, powerDnsDriver, type PowerDnsOptions } from './dns.ts';

export { DRIVER_NAME, POWERDNS_RECORD_TYPES, ZONE_KIND } from './dns.ts';

/** Test seams. */
export interface PowerDnsDeps {
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
}

const OPTION_KEYS = ['serverId', 'nameservers', 'masterKind', 'defaultTtl'];

export function createPowerDnsProvider(deps: PowerDnsDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'PowerDNS Authoritative',
    services: ['DNS'],
    regional: false,
    validate: validatePowerDnsAccount,
    create: (ctx) => createPowerDnsInstance(ctx, deps),
  };
}

export const powerDnsProvider: ProviderDefinition = createPowerDnsProvider();

/** One account's driver; `ctx.account.endpoint` is the PowerDNS webserver URL. */
export function createPowerDnsInstance(ctx: DriverContext, deps: PowerDnsDeps = {}): ProviderInstance {
  const problems = validatePowerDnsAccount(ctx.account);
  if (problems.length) throw new InvalidInputError(`invalid account: ${problems.join('; ')}`, { provider: DRIVER_NAME, field: 'account' });
  const { account } = ctx;
  let conn: Connection | undefined;
  const open = async () =>
    (conn ??= createConnection({
      provider: DRIVER_NAME,
      baseUrl: apiBase(account.endpoint!),
      signer: apiKeySigner(account.credentials.apiKey!),
      recordCall: ctx.recordCall,
      now: ctx.now,
      retry: deps.retry,
      sleep: deps.sleep,
      parseError: parsePowerDnsError,
      defaults: ctx.http,
    }));
  return {
    dns: powerDnsDriver(open, parseOptions(account.options)),
    close: async () => {
      await conn?.close();
    },
  };
}

export function validatePowerDnsAccount(account: AccountConfig): string[] {
  const problems: string[] = [];
  if (account.endpoint === undefined) problems.push('endpoint is required (the PowerDNS webserver URL, e.g. http://127.0.0.1:8081)');
  else if (!URL.canParse(account.endpoint) || !/^https?:$/.test(new URL(account.endpoint).protocol)) problems.push('endpoint must be an absolute http(s) URL');
  const key = account.credentials.apiKey;
  if (typeof key !== 'string' || key === '') problems.push('credentials.apiKey is required');
  for (const k of Object.keys(account.credentials)) if (k !== 'apiKey') problems.push(`credentials.${k} is not a powerdns credential (it takes only apiKey)`);
  if (account.regions.length) problems.push('regions: powerdns has no regions');
  const o = account.options;
  for (const k of Object.keys(o)) if (!OPTION_KEYS.includes(k)) problems.push(`options.${k} is not a powerdns option (${OPTION_KEYS.join(', ')})`);
  if (o.serverId !== undefined && (typeof o.serverId !== 'string' || o.serverId.trim() === '')) problems.push('options.serverId must be a non-empty string');
  if (o.masterKind !== undefined && o.masterKind !== 'Native' && o.masterKind !== 'Master') problems.push('options.masterKind must be Native or Master');
  if (o.nameservers !== undefined && !(Array.isArray(o.nameservers) && o.nameservers.every((n) => typeof n === 'string' && /^[a-z0-9_.-]+\.?$/i.test(n) && n.includes('.')))) {
    problems.push('options.nameservers must be a list of host names');
  }
  if (o.defaultTtl !== undefined && !(typeof o.defaultTtl === 'number' && Number.isInteger(o.defaultTtl) && o.defaultTtl >= 0 && o.defaultTtl <= MAX_TTL)) {
    problems.push(`options.defaultTtl must be an integer from 0 to ${MAX_TTL}`);
  }
  return problems;
}

/** 422 is PowerDNS's answer to content it cannot take: a conflict (CNAME beside data, a zone that exists) or bad input. */
export function parsePowerDnsError(info: ErrorResponseInfo): SkygraphError | undefined {
  if (info.status !== 422 && info.status !== 400) return undefined;
  const base = mapErrorResponse(info, DRIVER_NAME, [], new Date());
  const message = base.message.replace(/^\[[^\]]+\] /, '');
  const opts = { provider: DRIVER_NAME, status: info.status, requestId: base.requestId };
  if (/conflict|already exists/i.test(message)) return new ConflictError(message, opts);
  return new InvalidInputError(message, opts);
}

// --- Internal helpers ---

function parseOptions(o: Record<string, unknown>): PowerDnsOptions {
  return {
    serverId: typeof o.serverId === 'string' ? o.serverId : 'localhost',
    masterKind: o.masterKind === 'Master' ? 'Master' : 'Native',
    nameservers: Array.isArray(o.nameservers) ? o.nameservers.map((n) => String(n).replace(/\.$/, '')) : [],
    defaultTtl: typeof o.defaultTtl === 'number' ? o.defaultTtl : 3600,
  };
}

function apiBase(endpoint: string): string {
  const url = new URL(endpoint);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/api/v1') ? path : `${path}/api/v1`;
  return url.toString();
}

/** PowerDNS's static API key header. */
function apiKeySigner(apiKey: string): Signer {
  return {
    sign: async (req) => ({ ...req, headers: { ...req.headers, 'x-api-key': apiKey } }),
  };
}
