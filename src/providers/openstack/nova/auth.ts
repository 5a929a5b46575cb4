/**
 * The OpenStack auth seam the Nova, Octavia, Designate and Rackspace drivers code against: a
 * Signer that adds X-Auth-Token, plus endpoint lookup by service type, and one connection per
 * instance to a service of the catalog (catalogConnection). `accountAuth` backs it
 * with Keystone (src/providers/openstack/identity: v3 password / application credential /
 * token, v2.0 password and Rackspace API key, or a preset token + endpoint), with the
 * credentials optionally read from clouds.yaml (`options.cloud`).
 */
import { InvalidInputError, NotFoundError } from '../../errors.ts';
import { createConnection, type Connection, type ConnectionOptions, type RetryOptions } from '../../http/connection.ts';
import type { Signer } from '../../http/types.ts';
import type { AccountConfig, DriverContext } from '../../types.ts';
import { authMethodFor, createKeystoneAuth, resolveCloudCredentials, validateOpenStackCredentials, type EndpointInterface, type KeystoneAuth } from '../identity/index.ts';

/** Token signer plus service-catalog lookup. */
export interface OpenStackAuth extends Signer {
  /** the endpoint of a service type (e.g. 'compute', 'image', 'load-balancer'), or undefined when none is known */
  endpoint(serviceType: string, opts?: { region?: string | undefined; interface?: string | undefined }): Promise<string | undefined>;
  /** releases the identity connection */
  close?(): Promise<void>;
}

/** How a driver asks for its account's auth. */
export interface AccountAuthOptions {
  provider: string;
  /** the service `account.endpoint` overrides (compute, load-balancer, rax:load-balancer) */
  primaryService: string;
  /** Rackspace: https://identity.api.rackspacecloud.com/v2.0/ */
  defaultAuthUrl?: string | undefined;
  /**
   * The provider's defaultRegion (the config loader puts it in `account.regions` when the account
   * names none). Catalog lookups for it use the clouds.yaml `region_name` instead, when there is one.
   */
  defaultRegion?: string | undefined;
}

interface ResolvedAuth {
  keystone: KeystoneAuth;
  preset: boolean;
  regionName: string | undefined;
  interface: EndpointInterface | undefined;
}

/**
 * Keystone-backed auth for one account. `account.endpoint` (when set) is the primary service's
 * URL; other services come from the catalog, and are absent in preset-token mode (no catalog).
 * With `options.cloud` the clouds.yaml cloud is read on first use (explicit credentials win
 * over it); a failed read is not kept, so the next call reads the files again.
 */
export function accountAuth(ctx: DriverContext, opts: AccountAuthOptions): OpenStackAuth {
  const { account } = ctx;
  const build = (credentials: Record<string, string>, regionName: string | undefined, iface: EndpointInterface | undefined): ResolvedAuth => {
    const effective = { ...account, credentials };
    const defaultAuthUrl = effectiveDefaultAuthUrl(effective, opts.defaultAuthUrl);
    const preset = authMethodFor(credentials, credentials.auth_url || defaultAuthUrl) === 'preset';
    const keystone = createKeystoneAuth({
      provider: opts.provider,
      credentials,
      defaultAuthUrl,
      endpoint: preset ? account.endpoint : undefined,
      cacheKey: account.id,
      now: ctx.now,
      recordCall: ctx.recordCall,
      logger: ctx.logger,
      // why: a hung token request must end with the account's deadline, not undici's 30 s default
      timeoutMs: account.timeoutMs,
      http: ctx.http,
    });
    return { keystone, preset, regionName, interface: iface };
  };

  let resolved: ResolvedAuth | undefined = account.options.cloud === undefined ? build(account.credentials, undefined, undefined) : undefined;
  let pending: Promise<ResolvedAuth> | undefined;
  const resolve = async (): Promise<ResolvedAuth> => {
    if (resolved) return resolved;
    pending ??= resolveCloudCredentials(account, opts.provider, { defaultAuthUrl: effectiveDefaultAuthUrl(account, opts.defaultAuthUrl) })
      .then((c) => (resolved = build(c.credentials, c.regionName, c.interface)))
      .finally(() => (pending = undefined));
    return pending;
  };
  // why: the config loader fills in defaultRegion when the account names none; then the cloud's region_name is meant
  const namedNoRegion = account.regions.length === 0 || (opts.defaultRegion !== undefined && account.regions.length === 1 && account.regions[0] === opts.defaultRegion);
  const regionFor = (r: ResolvedAuth, asked: string | undefined) => {
    if (r.regionName === undefined) return asked;
    if (asked === undefined || (namedNoRegion && asked === opts.defaultRegion)) return r.regionName;
    return asked;
  };

  return {
    sign: async (req, c) => (await resolve()).keystone.sign(req, c),
    onUnauthorized: () => resolved?.keystone.invalidate(),
    async endpoint(serviceType, q) {
      if (serviceType === opts.primaryService && account.endpoint) return account.endpoint;
      const r = await resolve();
      if (r.preset) return undefined;
      const query = { region: regionFor(r, q?.region), interface: (q?.interface ?? r.interface ?? 'public') as EndpointInterface };
      if (serviceType === opts.primaryService) return r.keystone.endpoint(serviceType, query);
      // why: optional services (Glance) are simply not used when the catalog lacks them
      return r.keystone.endpoint(serviceType, query).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
    },
    close: async () => {
      await resolved?.keystone.close();
    },
  };
}

/**
 * The provider's default identity URL, unless the account is in preset mode: a token with an
 * endpoint and no auth_url is used as it is (not exchanged at Rackspace's identity service).
 */
export function effectiveDefaultAuthUrl(account: AccountConfig, defaultAuthUrl: string | undefined): string | undefined {
  const c = account.credentials;
  return c.token && !c.auth_url && account.endpoint ? undefined : defaultAuthUrl;
}

/**
 * Credential problems of an account, naming fields, never values. With `options.cloud` the
 * credentials are only known once clouds.yaml is read, so they are checked then (accountAuth).
 */
export function validateCredentialsUnlessCloud(account: AccountConfig, defaultAuthUrl: string | undefined): string[] {
  if (account.options.cloud !== undefined) return [];
  return validateOpenStackCredentials(account.credentials, { defaultAuthUrl: effectiveDefaultAuthUrl(account, defaultAuthUrl), endpoint: account.endpoint });
}

/** The endpoint of `serviceType`, or an InvalidInputError naming where to configure it. */
export async function requireEndpoint(auth: OpenStackAuth, provider: string, serviceType: string, region: string | undefined, field: string): Promise<string> {
  // why: no interface here, so the account's (clouds.yaml `interface`, else public) applies
  const url = await auth.endpoint(serviceType, { region });
  if (!url) throw new InvalidInputError(`no ${serviceType} endpoint: set ${field} or use a catalog that has one`, { provider, field });
  return url;
}

/** Problems of the options of a driver that takes only `cloud` (a cloud of clouds.yaml). */
export function cloudOnlyOptionProblems(account: AccountConfig, provider: string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(account.options)) {
    if (key !== 'cloud') problems.push(`options.${key} is not a ${provider} option (it takes only cloud)`);
    else if (typeof value !== 'string' || value.trim() === '') problems.push('options.cloud must be a non-empty string (a cloud of clouds.yaml)');
  }
  return problems;
}

/** Which service catalogConnection connects to, and how. */
export interface CatalogConnectionOptions {
  provider: string;
  /** the catalog's service type (`dns`, `load-balancer`, `rax:dns`); `account.endpoint` when set */
  serviceType: string;
  region: string | undefined;
  /** the connection's base URL from the endpoint (default the endpoint itself) */
  baseUrl?: (endpoint: string) => string;
  parseError?: ConnectionOptions['parseError'];
  retry?: Partial<RetryOptions> | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** A connection opened on first use, and the close of an instance. */
export interface CatalogConnection {
  open(): Promise<Connection>;
  /** closes the connection (when one was opened) and the auth */
  close(): Promise<void>;
}

/**
 * One connection to a service of the account's catalog, signed by `auth`, opened on first use;
 * a failed open (no endpoint, identity down) is not kept, so the next call tries again.
 */
export function catalogConnection(ctx: DriverContext, auth: OpenStackAuth, opts: CatalogConnectionOptions): CatalogConnection {
  let conn: Promise<Connection> | undefined;
  const { provider } = opts;
  return {
    open: () =>
      (conn ??= requireEndpoint(auth, provider, opts.serviceType, opts.region, 'endpoint')
        .then((url) =>
          createConnection({
            provider,
            baseUrl: opts.baseUrl ? opts.baseUrl(url) : url,
            signer: auth,
            recordCall: ctx.recordCall,
            now: ctx.now,
            retry: opts.retry,
            sleep: opts.sleep,
            parseError: opts.parseError,
            defaults: ctx.http,
          }),
        )
        .catch((err: unknown) => ((conn = undefined), Promise.reject(err)))),
    close: async () => {
      if (conn) await (await conn.catch(() => undefined))?.close();
      await auth.close?.();
    },
  };
}
