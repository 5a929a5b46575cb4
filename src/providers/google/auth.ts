/**
 * Google credentials and OAuth 2.0 access tokens for the Google drivers (gce, gce-lb, gcs, and a
 * later Cloud DNS driver): one `googleTokenSource(account, { scopes })` per driver instance, fed
 * to the bearer signer.
 *
 * Where an account's credentials come from, first match wins:
 *   1. `credentials.accessToken`: a ready OAuth access token (e.g. `gcloud auth print-access-token`),
 *      used as it is and never refreshed; no signed URLs.
 *   2. `credentials.serviceAccountJson`: the service-account key JSON itself (`${GCP_SA_JSON}`).
 *   3. `options.keyFile`: a path to the service-account key JSON file.
 *   4. `GOOGLE_APPLICATION_CREDENTIALS`: a path to a service-account key JSON file (application
 *      default credentials; gcloud's `authorized_user` files and the metadata server are not read).
 *
 * A service-account key is exchanged for an access token with a signed JWT (RS256) at the key's
 * `token_uri`; the token is kept until five minutes before it expires, and dropped when an API
 * answers 401. The private key lives only in a KeyObject inside this module's closures: it is
 * never a property of anything returned, never logged and never part of an error.
 *
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 * https://datatracker.ietf.org/doc/html/rfc7523#section-2.1
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AuthenticationError, MalformedResponseError, RateLimitedError, type SkygraphError } from '../errors.ts';
import { createConnection, type Connection, type ConnectionDefaults, type ErrorResponseInfo, type RetryOptions } from '../http/connection.ts';
import { statusError } from '../http/map-errors.ts';
import { bodySnippet } from '../http/parsers/context.ts';
import { scrubError } from '../http/redact.ts';
import { parseRetryAfter } from '../http/retry.ts';
import type { TokenSource } from '../http/signers/bearer.ts';
import type { AccountConfig } from '../types.ts';
import { obj, str, type Json } from './json.ts';
import { detached } from '../call-scope.ts';

export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** OAuth scopes the Google drivers ask for. */
export const GOOGLE_SCOPES = {
  compute: 'https://www.googleapis.com/auth/compute',
  storageFullControl: 'https://www.googleapis.com/auth/devstorage.full_control',
  dns: 'https://www.googleapis.com/auth/ndev.clouddns.readwrite',
  cloudPlatform: 'https://www.googleapis.com/auth/cloud-platform',
} as const;

/** A project id: 6-30 lower-case letters, digits and hyphens; legacy domain-scoped ids carry `domain:`. */
export const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** Credential names the Google drivers accept. */
export const GOOGLE_CREDENTIAL_KEYS = ['serviceAccountJson', 'accessToken'] as const;

/** why: Google issues tokens for 3600 s; asking again this long before expiry avoids sending a token that dies in flight */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** the longest assertion lifetime Google accepts */
const ASSERTION_LIFETIME_S = 3600;

/** Where an account's credentials were found. */
export type CredentialSource = 'credentials.accessToken' | 'credentials.serviceAccountJson' | 'options.keyFile' | 'GOOGLE_APPLICATION_CREDENTIALS';

/** What the drivers may know about the credentials (never the key itself). */
export interface GoogleCredentials {
  source: CredentialSource;
  /** the key's project_id, when it has one */
  projectId: string | undefined;
  /** the service account (client_email); undefined for a bare access token */
  clientEmail: string | undefined;
  /** RSASSA-PKCS1-v1_5 with SHA-256 under the service account's key (V4 signed URLs); undefined for a bare access token */
  signRsaSha256: ((data: string) => Buffer) | undefined;
}

/** A TokenSource for the bearer signer, plus the credentials behind it. */
export interface GoogleTokenSource extends TokenSource {
  /** read and checked once, on first use */
  credentials(): Promise<GoogleCredentials>;
  /** closes the token endpoint's sockets */
  close(): Promise<void>;
}

/** What a token source needs besides the account. */
export interface GoogleTokenSourceOptions {
  /** the [provider] prefix of error messages: the driver's name */
  provider: string;
  scopes: readonly string[];
  /** counts each token request as an upstream call */
  recordCall?: (operation: string) => void;
  retry?: Partial<RetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  /** default process.env (GOOGLE_APPLICATION_CREDENTIALS) */
  env?: Record<string, string | undefined>;
  /** each token request's time limit (headers, then body): the account's deadline, so a hanging token endpoint does not hold later calls */
  timeoutMs?: number | undefined;
  /** DriverContext.http: connection defaults (the account's connection slots, test retries) */
  http?: ConnectionDefaults | undefined;
}

export function googleTokenSource(account: AccountConfig, opts: GoogleTokenSourceOptions): GoogleTokenSource {
  const { provider } = opts;
  const staticToken = account.credentials.accessToken?.trim();
  if (staticToken) {
    const credentials: GoogleCredentials = { source: 'credentials.accessToken', projectId: undefined, clientEmail: undefined, signRsaSha256: undefined };
    // why: no invalidate, so a 401 is final instead of resending the same token
    return { token: () => staticToken, credentials: async () => credentials, close: async () => undefined };
  }

  let loading: Promise<ServiceAccount> | undefined;
  let connection: Connection | undefined;
  let cached: { token: string; refreshAt: number } | undefined;
  let fetching: Promise<string> | undefined;
  // why: the connection reads the time of the fetch under way (Retry-After dates), not of the first one
  let clock = new Date();

  const load = () =>
    (loading ??= loadServiceAccount(account, provider, opts.env ?? process.env).catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));

  const fetchToken = async (now: Date): Promise<string> => {
    const sa = await load();
    clock = now;
    connection ??= createConnection({
      provider,
      baseUrl: sa.tokenUri,
      recordCall: opts.recordCall,
      retry: opts.retry,
      sleep: opts.sleep,
      now: () => clock,
      parseError: (info) => parseTokenError(info, provider),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      defaults: opts.http,
    });
    const assertion = signAssertion(sa, opts.scopes, now);
    try {
      // https://developers.google.com/identity/protocols/oauth2/service-account#makingrequest
      const res = await connection.request<unknown>({
        operation: 'POST oauth2/token',
        method: 'POST',
        path: sa.tokenUri,
        form: { grant_type: JWT_BEARER_GRANT, assertion },
        // why: asking twice only mints two tokens
        idempotent: true,
      });
      const body = obj(res.body) ?? {};
      const token = str(body.access_token);
      const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in);
      if (!token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new MalformedResponseError('POST oauth2/token answered without access_token and expires_in', { provider, status: res.status });
      }
      const lifetimeMs = expiresIn * 1000;
      cached = { token, refreshAt: now.getTime() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
      return token;
    } catch (err) {
      throw scrubError(err, [assertion, assertion.slice(assertion.lastIndexOf('.') + 1)]);
    }
  };

  return {
    async token(now) {
      if (cached && now.getTime() < cached.refreshAt) return cached.token;
      // why: concurrent callers share the fetch; it must not end with the deadline of the one that started it
      fetching ??= detached(() => fetchToken(now)).finally(() => (fetching = undefined));
      return fetching;
    },
    invalidate() {
      cached = undefined;
    },
    async credentials() {
      const sa = await load();
      return {
        source: sa.source,
        projectId: sa.projectId,
        clientEmail: sa.clientEmail,
        signRsaSha256: (data: string) => sign('sha256', Buffer.from(data, 'utf8'), sa.key),
      };
    },
    close: async () => {
      await connection?.close();
    },
  };
}

/**
 * Problems with an account's Google credentials and options.project, naming fields and never
 * their values. `env` is read only for GOOGLE_APPLICATION_CREDENTIALS being set.
 */
export function validateGoogleCredentials(account: AccountConfig, env: Record<string, string | undefined> = process.env): string[] {
  const problems: string[] = [];
  const creds = account.credentials;
  for (const key of Object.keys(creds)) {
    if (!(GOOGLE_CREDENTIAL_KEYS as readonly string[]).includes(key)) problems.push(`credentials.${key} is not a Google credential (known: ${GOOGLE_CREDENTIAL_KEYS.join(', ')})`);
  }
  const has = (key: string) => (creds[key] ?? '').trim() !== '';
  const keyFile = account.options.keyFile;
  if (keyFile !== undefined && (typeof keyFile !== 'string' || keyFile.trim() === '')) problems.push('options.keyFile must be a non-empty path');
  const given = [has('accessToken') && 'credentials.accessToken', has('serviceAccountJson') && 'credentials.serviceAccountJson', keyFile !== undefined && 'options.keyFile'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (given.length > 1) problems.push(`${given.join(' and ')} are both set; give one`);
  if (has('serviceAccountJson')) {
    const parsed = parseServiceAccount(creds.serviceAccountJson!, 'credentials.serviceAccountJson');
    if ('problem' in parsed) problems.push(parsed.problem);
  }
  if (given.length === 0 && !env.GOOGLE_APPLICATION_CREDENTIALS?.trim()) {
    problems.push('credentials: give credentials.serviceAccountJson, credentials.accessToken or options.keyFile, or set GOOGLE_APPLICATION_CREDENTIALS');
  }
  const project = account.options.project;
  if (project !== undefined && (typeof project !== 'string' || !PROJECT_ID.test(project))) {
    problems.push('options.project must be a Google Cloud project id (6 to 30 lower-case letters, digits and hyphens)');
  }
  if (project === undefined && has('accessToken')) problems.push('options.project is required with credentials.accessToken (a token names no project)');
  return problems;
}

/** The project of an account: options.project, else the key's project_id. */
export async function resolveProject(account: AccountConfig, source: GoogleTokenSource, provider: string): Promise<string> {
  const configured = account.options.project;
  if (typeof configured === 'string' && configured) return configured;
  const { projectId, source: where } = await source.credentials();
  if (projectId) return projectId;
  throw new AuthenticationError(`no project: set options.project (the key from ${where} has no project_id)`, { provider });
}

/** Maps the token endpoint's RFC 6749 section 5.2 error body: a refused grant is an authentication failure. */
export function parseTokenError(info: ErrorResponseInfo, provider: string): SkygraphError {
  let body: Json = {};
  try {
    body = obj(JSON.parse(info.bodyText)) ?? {};
  } catch {
    // why: a proxy's HTML page still maps by status
  }
  const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
  const description = str(body.error_description);
  const message = `${info.operation} ${info.status}${code ? ` ${code}` : ''}${description ? `: ${bodySnippet(description, [], 200)}` : ''}`;
  const opts = { provider, status: info.status, requestId: info.requestId };
  if (info.status === 429) return new RateLimitedError(message, { ...opts, retryAfterMs: parseRetryAfter(info.headers['retry-after'], new Date()) });
  if (info.status === 400 || info.status === 401 || info.status === 403) return new AuthenticationError(message, opts);
  return statusError(message, opts);
}

// --- Internal helpers ---

interface ServiceAccount {
  source: CredentialSource;
  clientEmail: string;
  privateKeyId: string | undefined;
  projectId: string | undefined;
  tokenUri: string;
  key: KeyObject;
}

async function loadServiceAccount(account: AccountConfig, provider: string, env: Record<string, string | undefined>): Promise<ServiceAccount> {
  const fail = (message: string) => new AuthenticationError(message, { provider });
  let source: CredentialSource;
  let text: string;
  const inline = account.credentials.serviceAccountJson;
  const keyFile = account.options.keyFile;
  if (inline?.trim()) {
    source = 'credentials.serviceAccountJson';
    text = inline;
  } else {
    const path = typeof keyFile === 'string' && keyFile.trim() ? keyFile : env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
    source = typeof keyFile === 'string' && keyFile.trim() ? 'options.keyFile' : 'GOOGLE_APPLICATION_CREDENTIALS';
    if (!path) throw fail('no credentials: give credentials.serviceAccountJson, credentials.accessToken or options.keyFile, or set GOOGLE_APPLICATION_CREDENTIALS');
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      // why: only the error code; the message would carry the path, and the path is config
      const code = (err as { code?: unknown }).code;
      throw fail(`the key file named by ${source} could not be read (${typeof code === 'string' ? code : 'error'})`);
    }
  }
  const parsed = parseServiceAccount(text, source);
  if ('problem' in parsed) throw fail(parsed.problem);
  return { ...parsed.ok, source };
}

/** Parses and checks a service-account key; problems name `field` and quote nothing from the text. */
function parseServiceAccount(text: string, field: string): { ok: Omit<ServiceAccount, 'source'> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // why: JSON.parse's message quotes the text around the fault, which may be the private key
    return { problem: `${field} is not valid JSON` };
  }
  const o = obj(parsed);
  if (!o) return { problem: `${field} must be a JSON object (a service-account key)` };
  if (o.type !== 'service_account') return { problem: `${field} must be a service-account key ("type": "service_account")` };
  const clientEmail = str(o.client_email);
  if (!clientEmail || !clientEmail.includes('@')) return { problem: `${field} has no client_email` };
  const pem = typeof o.private_key === 'string' ? o.private_key : '';
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return { problem: `${field} has no readable private_key (a PEM private key)` };
  }
  if (key.asymmetricKeyType !== 'rsa') return { problem: `${field} private_key must be an RSA key` };
  const tokenUri = o.token_uri === undefined ? DEFAULT_TOKEN_URI : str(o.token_uri);
  if (!tokenUri || !isSafeTokenUri(tokenUri)) return { problem: `${field} token_uri must be an https URL (http only for a local one)` };
  return { ok: { clientEmail, privateKeyId: str(o.private_key_id), projectId: str(o.project_id), tokenUri, key } };
}

/** why: the signed assertion is good for an hour; it must not cross a network in clear text */
function isSafeTokenUri(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return url.protocol === 'http:' && (host === 'localhost' || host === '::1' || host.startsWith('127.'));
}

/** The RS256 JWT of RFC 7523 section 2.1 with Google's claims. */
function signAssertion(sa: ServiceAccount, scopes: readonly string[], now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(sa.privateKeyId ? { kid: sa.privateKeyId } : {}) };
  const claims = { iss: sa.clientEmail, scope: scopes.join(' '), aud: sa.tokenUri, iat, exp: iat + ASSERTION_LIFETIME_S };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${sign('sha256', Buffer.from(input), sa.key).toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
