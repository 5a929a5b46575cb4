/**
 * OpenStack identity for every OpenStack driver: a Signer that adds `X-Auth-Token`, plus the
 * service catalog. Supported (chosen from the credentials, keys as in a clouds.yaml `auth` block):
 *
 *   - Keystone v3: password (user and project by name + domain, or by id), application credential, token
 *   - Keystone v2.0: password, and Rackspace's `RAX-KSKEY:apiKeyCredentials` (credentials.api_key)
 *   - Swift v1.0 (auth_url ending in /v1.0): X-Auth-User / X-Auth-Key -> X-Auth-Token + X-Storage-Url
 *   - a preset token (credentials.token) with a preset endpoint and no auth_url
 *
 * Tokens are cached per `cacheKey` (one per account) and credentials, renewed `renewBeforeMs`
 * before they expire, and dropped on a 401 so the connection re-fetches one once.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { InvalidInputError, MalformedResponseError, toSkygraphError } from '../../errors.ts';
import { createConnection, type Connection, type ConnectionDefaults } from '../../http/connection.ts';
import { scrubError } from '../../http/redact.ts';
import type { HttpRequest, Signer } from '../../http/types.ts';
import type { AccountConfig, Logger } from '../../types.ts';
import { parseV2Catalog, parseV3Catalog, pickEndpoint, type Catalog, type EndpointInterface, type EndpointQuery } from './catalog.ts';
import { loadCloudConfig, type CloudsLookup } from './clouds-yaml.ts';
import { detached } from '../../call-scope.ts';

export type { Catalog, CatalogEndpoint, CatalogService, EndpointInterface, EndpointQuery } from './catalog.ts';
export { pickEndpoint } from './catalog.ts';
export { loadCloudConfig, type CloudConfig, type CloudsLookup } from './clouds-yaml.ts';

/** Credential keys understood (clouds.yaml `auth` names; api_key is Rackspace's). */
export const CREDENTIAL_KEYS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'tenant_name',
  'tenant_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'token',
  'api_key',
] as const;

/** Credential values that are secrets (scrubbed from every error). */
const SECRET_KEYS = ['password', 'application_credential_secret', 'token', 'api_key'];

export type AuthMethod = 'v3password' | 'v3applicationcredential' | 'v3token' | 'v2password' | 'v2token' | 'v2apikey' | 'v1' | 'preset';

export interface KeystoneAuthOptions {
  /** `[provider]` prefix of errors */
  provider: string;
  /** clouds.yaml `auth` keys (see CREDENTIAL_KEYS) */
  credentials: Record<string, string>;
  /** used when credentials have no auth_url (Rackspace: https://identity.api.rackspacecloud.com/v2.0/) */
  defaultAuthUrl?: string | undefined;
  /**
   * Fixed service endpoint: every `endpoint()` answers it. With credentials.token and no
   * auth_url this is the "preset token + endpoint" mode.
   */
  endpoint?: string | undefined;
  /** instances with the same key (one account) share their token; default: not shared */
  cacheKey?: string | undefined;
  now?: () => Date;
  recordCall?: (operation: string) => void;
  logger?: Logger | undefined;
  /** renew this long before expiry; default 300000 (5 min) */
  renewBeforeMs?: number;
  timeoutMs?: number;
  /** DriverContext.http */
  http?: ConnectionDefaults | undefined;
}

/** A token-based Signer with the service catalog that came with the token. */
export interface KeystoneAuth extends Signer {
  readonly method: AuthMethod;
  /** a valid token (authenticating when there is none, or it is about to expire) */
  token(): Promise<string>;
  catalog(): Promise<Catalog>;
  /** URL of `serviceType` (e.g. `object-store`) for the region and interface (default public) */
  endpoint(serviceType: string, query?: EndpointQuery): Promise<string>;
  /** drops the cached token (what `onUnauthorized` does) */
  invalidate(): void;
  close(): Promise<void>;
}

interface Session {
  token: string;
  /** null: does not expire (or not said) */
  expiresAt: Date | null;
  catalog: Catalog;
}

const DEFAULT_RENEW_MS = 300_000;
/** why: shared by every instance of an account (one per region), so N regions cost one auth call */
const SHARED = new Map<string, Promise<Session>>();

/** Which auth flow these credentials (and auth_url) select. */
export function authMethodFor(credentials: Record<string, string>, authUrl: string | undefined): AuthMethod {
  if (!authUrl) return 'preset';
  const path = new URL(authUrl).pathname.replace(/\/+$/, '');
  if (/\/v1\.0$/.test(path)) return 'v1';
  if (/\/v2\.0$/.test(path)) return credentials.api_key ? 'v2apikey' : credentials.password ? 'v2password' : 'v2token';
  if (credentials.api_key) return 'v2apikey';
  if (credentials.application_credential_secret) return 'v3applicationcredential';
  if (credentials.password) return 'v3password';
  return 'v3token';
}

/** An account's credentials after its clouds.yaml cloud (`options.cloud`) is read. */
export interface ResolvedCloudCredentials {
  /** the cloud's `auth` block with the account's own credentials over it */
  credentials: Record<string, string>;
  /** the cloud's `region_name` (undefined without a cloud) */
  regionName: string | undefined;
  /** the cloud's `interface` (undefined without a cloud) */
  interface: EndpointInterface | undefined;
}

/**
 * The credentials to authenticate `account` with. Without `options.cloud` they are the account's
 * as they are; with it, the named cloud of clouds.yaml (+ secure.yaml) is read, the account's
 * explicit credentials win over it, and the result is validated (problems name fields, never
 * values). Throws InvalidInputError; nothing is cached, so a fixed file is picked up next call.
 */
export async function resolveCloudCredentials(
  account: AccountConfig,
  provider: string,
  opts: { defaultAuthUrl?: string | undefined; lookup?: CloudsLookup } = {},
): Promise<ResolvedCloudCredentials> {
  const name = account.options?.cloud;
  if (name === undefined) return { credentials: { ...account.credentials }, regionName: undefined, interface: undefined };
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidInputError('options.cloud must be a non-empty string', { provider, field: 'options.cloud' });
  const lookup = opts.lookup ?? { env: process.env, cwd: process.cwd(), home: homedir() };
  const cloud = await loadCloudConfig(name, lookup, provider);
  const credentials = { ...cloud.auth, ...account.credentials };
  const problems = validateOpenStackCredentials(credentials, { defaultAuthUrl: opts.defaultAuthUrl, endpoint: account.endpoint });
  if (problems.length > 0) {
    throw new InvalidInputError(`${problems.join('; ')} (after reading options.cloud ${JSON.stringify(name)} from ${cloud.file})`, { provider, field: 'credentials' });
  }
  return { credentials, regionName: cloud.regionName, interface: cloud.interface as EndpointInterface | undefined };
}

/** Problems with these credentials, naming fields, never values. */
export function validateOpenStackCredentials(credentials: Record<string, string>, opts: { defaultAuthUrl?: string | undefined; endpoint?: string | undefined } = {}): string[] {
  const problems: string[] = [];
  const known = new Set<string>(CREDENTIAL_KEYS);
  for (const key of Object.keys(credentials)) if (!known.has(key)) problems.push(`credentials.${key} is not an OpenStack auth key`);
  const authUrl = credentials.auth_url || opts.defaultAuthUrl;
  if (authUrl && (!URL.canParse(authUrl) || !/^https?:$/.test(new URL(authUrl).protocol))) {
    problems.push('credentials.auth_url must be an absolute http(s) URL');
    return problems;
  }
  const method = authMethodFor(credentials, authUrl);
  const need = (key: string) => {
    if (!credentials[key]) problems.push(`credentials.${key} is required`);
  };
  switch (method) {
    case 'preset':
      need('token');
      if (!opts.endpoint) problems.push('endpoint is required with a preset credentials.token and no credentials.auth_url');
      break;
    case 'v1':
      need('username');
      need('password');
      break;
    case 'v2apikey':
      need('username');
      break;
    case 'v2password':
      need('username');
      break;
    case 'v2token':
      need('token');
      break;
    case 'v3applicationcredential':
      if (!credentials.application_credential_id && !credentials.application_credential_name) {
        problems.push('credentials.application_credential_id (or application_credential_name) is required');
      }
      if (!credentials.application_credential_id && !credentials.username && !credentials.user_id) {
        problems.push('credentials.username or credentials.user_id is required with application_credential_name');
      }
      break;
    case 'v3password':
      if (!credentials.username && !credentials.user_id) problems.push('credentials.username or credentials.user_id is required');
      break;
    case 'v3token':
      need('token');
      break;
  }
  return problems;
}

export function createKeystoneAuth(opts: KeystoneAuthOptions): KeystoneAuth {
  const { provider, credentials } = opts;
  const problems = validateOpenStackCredentials(credentials, { defaultAuthUrl: opts.defaultAuthUrl, endpoint: opts.endpoint });
  if (problems.length > 0) throw new InvalidInputError(problems.join('; '), { provider, field: 'credentials' });
  const authUrl = credentials.auth_url || opts.defaultAuthUrl;
  const method = authMethodFor(credentials, authUrl);
  const now = opts.now ?? (() => new Date());
  const renewMs = opts.renewBeforeMs ?? DEFAULT_RENEW_MS;
  const secrets = SECRET_KEYS.map((k) => credentials[k]).filter((v): v is string => Boolean(v));
  const cacheKey = `${opts.cacheKey ?? `instance-${Math.random()}`}\0${fingerprint(credentials, authUrl)}`;

  let connection: Connection | undefined;
  const conn = () =>
    (connection ??= createConnection({
      provider,
      baseUrl: authUrl ?? 'http://invalid',
      recordCall: opts.recordCall,
      timeoutMs: opts.timeoutMs,
      retry: { retries: 2 },
      now,
      defaults: opts.http,
    }));

  const authenticate = async (): Promise<Session> => {
    try {
      const session = await fetchSession(method, credentials, conn, provider, opts.endpoint, now());
      opts.logger?.debug('openstack: authenticated', { provider, method, expiresAt: session.expiresAt?.toISOString() ?? null });
      return session;
    } catch (err) {
      throw scrubError(toSkygraphError(err, provider), secrets);
    }
  };

  const session = async (at: Date): Promise<Session> => {
    const cached = SHARED.get(cacheKey);
    if (cached) {
      const s = await cached.catch(() => undefined);
      if (s && (s.expiresAt === null || at.getTime() < s.expiresAt.getTime() - renewMs)) return s;
      // why: only the caller that still sees the stale entry replaces it; others wait on the new one
      if (SHARED.get(cacheKey) !== cached) return session(at);
    }
    // why: other callers (of any instance with these credentials) share the token; it must not end with this caller's deadline
    const pending = detached(authenticate);
    SHARED.set(cacheKey, pending);
    pending.catch(() => {
      if (SHARED.get(cacheKey) === pending) SHARED.delete(cacheKey);
    });
    return pending;
  };

  const invalidate = () => {
    if (method !== 'preset') SHARED.delete(cacheKey);
  };

  return {
    method,
    async sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest> {
      const s = await session(ctx.now);
      return { ...req, headers: { ...req.headers, 'x-auth-token': s.token } };
    },
    onUnauthorized: invalidate,
    invalidate,
    token: async () => (await session(now())).token,
    catalog: async () => (await session(now())).catalog,
    async endpoint(serviceType, query = {}) {
      if (opts.endpoint) return opts.endpoint;
      return pickEndpoint((await session(now())).catalog, serviceType, query, provider);
    },
    close: async () => {
      // why: an unshared token belongs to this instance alone
      if (opts.cacheKey === undefined) SHARED.delete(cacheKey);
      await connection?.close();
    },
  };
}

// --- Internal helpers ---

function fingerprint(credentials: Record<string, string>, authUrl: string | undefined): string {
  const sorted = Object.entries(credentials).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify([authUrl, sorted])).digest('hex');
}

async function fetchSession(
  method: AuthMethod,
  c: Record<string, string>,
  conn: () => Connection,
  provider: string,
  endpoint: string | undefined,
  at: Date,
): Promise<Session> {
  switch (method) {
    case 'preset':
      return { token: c.token as string, expiresAt: null, catalog: { services: [] } };
    case 'v1':
      return v1Session(c, conn(), provider, endpoint, at);
    case 'v2password':
    case 'v2token':
    case 'v2apikey':
      return v2Session(method, c, conn(), provider);
    default:
      return v3Session(method, c, conn(), provider);
  }
}

async function v1Session(c: Record<string, string>, conn: Connection, provider: string, endpoint: string | undefined, at: Date): Promise<Session> {
  const res = await conn.request({
    operation: 'GET /auth/v1.0',
    headers: { 'x-auth-user': c.username as string, 'x-auth-key': c.password as string },
    responseType: 'none',
  });
  const token = res.headers['x-auth-token'] ?? res.headers['x-storage-token'];
  const storageUrl = res.headers['x-storage-url'] ?? endpoint;
  if (!token || !storageUrl) throw new MalformedResponseError('the v1.0 auth response has no X-Auth-Token or X-Storage-Url', { provider });
  const ttl = Number(res.headers['x-auth-token-expires']);
  return {
    token,
    expiresAt: Number.isFinite(ttl) && ttl > 0 ? new Date(at.getTime() + ttl * 1000) : null,
    catalog: { services: [{ type: 'object-store', name: 'swift', endpoints: [{ interface: 'public', region: null, url: storageUrl }] }] },
  };
}

async function v2Session(method: AuthMethod, c: Record<string, string>, conn: Connection, provider: string): Promise<Session> {
  const auth: Record<string, unknown> = {};
  if (method === 'v2apikey') auth['RAX-KSKEY:apiKeyCredentials'] = { username: c.username, apiKey: c.api_key };
  else if (method === 'v2password') auth.passwordCredentials = { username: c.username, password: c.password };
  else auth.token = { id: c.token };
  const tenantName = c.project_name ?? c.tenant_name;
  const tenantId = c.project_id ?? c.tenant_id;
  if (tenantId) auth.tenantId = tenantId;
  else if (tenantName) auth.tenantName = tenantName;
  const res = await conn.request<Record<string, unknown>>({ operation: 'POST /v2.0/tokens', method: 'POST', path: 'tokens', json: { auth }, idempotent: true });
  const access = asObject(res.body?.access);
  const token = asObject(access.token);
  if (typeof token.id !== 'string' || !token.id) throw new MalformedResponseError('the v2.0 token response has no access.token.id', { provider });
  return { token: token.id, expiresAt: parseDate(token.expires), catalog: parseV2Catalog(access.serviceCatalog, provider) };
}

async function v3Session(method: AuthMethod, c: Record<string, string>, conn: Connection, provider: string): Promise<Session> {
  const domain = (name: string | undefined, id: string | undefined) => (id ? { id } : { name: name ?? 'Default' });
  const userDomain = domain(c.user_domain_name ?? c.domain_name, c.user_domain_id ?? c.domain_id);
  let identity: Record<string, unknown>;
  if (method === 'v3applicationcredential') {
    const cred = c.application_credential_id
      ? { id: c.application_credential_id, secret: c.application_credential_secret }
      : { name: c.application_credential_name, secret: c.application_credential_secret, user: c.user_id ? { id: c.user_id } : { name: c.username, domain: userDomain } };
    identity = { methods: ['application_credential'], application_credential: cred };
  } else if (method === 'v3password') {
    const user = c.user_id ? { id: c.user_id, password: c.password } : { name: c.username, domain: userDomain, password: c.password };
    identity = { methods: ['password'], password: { user } };
  } else {
    identity = { methods: ['token'], token: { id: c.token } };
  }
  const auth: Record<string, unknown> = { identity };
  // why: an application credential carries its own scope; Keystone refuses one given alongside
  if (method !== 'v3applicationcredential') {
    const projectName = c.project_name ?? c.tenant_name;
    const projectId = c.project_id ?? c.tenant_id;
    if (projectId) auth.scope = { project: { id: projectId } };
    else if (projectName) auth.scope = { project: { name: projectName, domain: domain(c.project_domain_name ?? c.domain_name, c.project_domain_id ?? c.domain_id) } };
  }
  const path = /\/v3\/?$/.test(conn.baseUrl.pathname) ? 'auth/tokens' : 'v3/auth/tokens';
  const res = await conn.request<Record<string, unknown>>({ operation: 'POST /v3/auth/tokens', method: 'POST', path, json: { auth }, idempotent: true });
  const tokenId = res.headers['x-subject-token'];
  if (!tokenId) throw new MalformedResponseError('the v3 token response has no X-Subject-Token header', { provider });
  const token = asObject(res.body?.token);
  return { token: tokenId, expiresAt: parseDate(token.expires_at), catalog: parseV3Catalog(token.catalog, provider) };
}

function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** ISO dates with Keystone's microseconds ("…T12:00:00.000000Z"); null when absent or unparsable. */
function parseDate(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  const d = new Date(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(d.getTime()) ? null : d;
}
