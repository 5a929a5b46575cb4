/**
 * Microsoft Entra ID (Azure AD) client-credentials tokens for Azure Resource Manager: a service
 * principal's id and secret are exchanged for a bearer token, which is cached until shortly
 * before it expires, shared by concurrent callers, and dropped when ARM answers 401 (the bearer
 * signer then asks for a new one once).
 *
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token
 */
import { AuthenticationError, MalformedResponseError, type SkygraphError } from '../../errors.ts';
import { createConnection, type ConnectionDefaults, type ErrorResponseInfo } from '../../http/connection.ts';
import { mapErrorResponse } from '../../http/map-errors.ts';
import type { TokenSource } from '../../http/signers/bearer.ts';
import { detached } from '../../call-scope.ts';

/** A service principal: its tenant, application (client) id and client secret. */
export interface ServicePrincipal {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** Options of {@link azureAdTokenSource}. */
export interface AzureAdTokenOptions {
  /** used as the [provider] prefix of errors */
  provider: string;
  /** the login endpoint; default https://login.microsoftonline.com */
  loginEndpoint: URL;
  principal: ServicePrincipal;
  /** default https://management.azure.com/.default */
  scope: string;
  recordCall: (operation: string) => void;
  now: () => Date;
  /** each token request's time limit (headers, then body): the account's deadline, so a hanging login endpoint does not hold later calls */
  timeoutMs?: number | undefined;
  /** DriverContext.http: connection defaults (the account's connection slots, test retries) */
  http?: ConnectionDefaults | undefined;
}

export const DEFAULT_LOGIN_ENDPOINT = 'https://login.microsoftonline.com';
export const ARM_SCOPE = 'https://management.azure.com/.default';
/** why: a token about to expire may expire in flight; renew this long before expires_in says */
const EXPIRY_MARGIN_MS = 5 * 60_000;
const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/** A refreshing token source; `close()` releases the login connection. */
export interface AzureAdTokenSource extends TokenSource {
  close(): Promise<void>;
}

export function azureAdTokenSource(opts: AzureAdTokenOptions): AzureAdTokenSource {
  const { provider, principal } = opts;
  const conn = createConnection({
    provider,
    baseUrl: opts.loginEndpoint.href,
    recordCall: opts.recordCall,
    parseError: (info) => parseTokenError(info, provider),
    requestIdHeaders: ['x-ms-request-id'],
    now: opts.now,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    defaults: opts.http,
  });
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret
  const fetchToken = async (): Promise<string> => {
    if (!TENANT.test(principal.tenantId) || !principal.clientId || !principal.clientSecret) {
      throw new AuthenticationError('GetToken: the service principal needs a tenantId, clientId and clientSecret', { provider });
    }
    const issuedAt = opts.now().getTime();
    const res = await conn.request<TokenResponse>({
      operation: 'GetToken',
      method: 'POST',
      path: `${encodeURIComponent(principal.tenantId)}/oauth2/v2.0/token`,
      form: {
        grant_type: 'client_credentials',
        client_id: principal.clientId,
        client_secret: principal.clientSecret,
        scope: opts.scope,
      },
      // why: nothing is created; a repeated token request only issues another token
      idempotent: true,
    });
    const body = res.body;
    const lifetime = Number(body?.expires_in);
    if (typeof body?.access_token !== 'string' || body.access_token === '' || !Number.isFinite(lifetime) || lifetime <= 0) {
      throw new MalformedResponseError('GetToken: the token response has no access_token or expires_in', { provider, requestId: res.requestId });
    }
    const lifetimeMs = lifetime * 1000;
    cached = { token: body.access_token, renewAt: issuedAt + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2) };
    return body.access_token;
  };

  return {
    async token(now) {
      if (cached && now.getTime() < cached.renewAt) return cached.token;
      // why: concurrent callers share the fetch; it must not end with the deadline of the one that started it
      pending ??= detached(fetchToken).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
    close: () => conn.close(),
  };
}

// --- Internal helpers ---

interface TokenResponse {
  token_type?: string;
  expires_in?: number | string;
  access_token?: string;
}

/**
 * Token endpoint errors: `{"error": "invalid_client", "error_description": "AADSTS7000215: …"}`.
 * Bad ids, secrets or tenants are 400/401 there; all of them mean the credentials are wrong.
 */
function parseTokenError(info: ErrorResponseInfo, provider: string): SkygraphError | undefined {
  let body: { error?: unknown; error_description?: unknown } | undefined;
  try {
    body = JSON.parse(info.bodyText) as typeof body;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error === 'string' ? body.error : undefined;
  if (code === undefined || info.status >= 500 || info.status === 429) return undefined;
  // why: the description's first sentence says what is wrong; trace and correlation ids follow it
  const description = typeof body?.error_description === 'string' ? body.error_description.split(/\r?\n| Trace ID:/)[0]!.trim() : '';
  const message = `${info.operation} ${info.status} ${code}: ${description.slice(0, 300)}`;
  if (['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_request', 'invalid_scope'].includes(code) || info.status === 401) {
    return new AuthenticationError(message, { provider, status: info.status, requestId: info.requestId });
  }
  return mapErrorResponse(info, provider, [], new Date());
}
