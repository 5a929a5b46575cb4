/**
 * Accounts of the bearer-token REST clouds: the API token comes from `credentials.token`, else
 * from the provider's environment variable; one connection per instance, opened on first use.
 */
import { AuthenticationError } from '../errors.ts';
import { createConnection, type Connection, type RetryOptions } from '../http/connection.ts';
import { bearerSigner, staticToken } from '../http/signers/bearer.ts';
import type { AccountConfig, DriverContext } from '../types.ts';
import { restErrorParser, type RestErrorOptions } from './errors.ts';
import { realSleep, type WaitOptions } from './wait.ts';

/** What differs between the clouds at the account and connection level. */
export interface RestApi {
  /** driver name, the `[provider]` prefix of errors */
  provider: string;
  /** e.g. https://api.digitalocean.com/v2; `account.endpoint` replaces it */
  baseUrl: string;
  /** read when the account has no credentials.token, e.g. DIGITALOCEAN_TOKEN */
  tokenEnv: string;
  /** lower-case reset header (epoch seconds), e.g. `ratelimit-reset`; absent when the API sends only Retry-After */
  resetHeader?: string;
  details?: RestErrorOptions['details'];
  conflictCodes?: RestErrorOptions['conflictCodes'];
}

/** Test seams and tuning shared by the drivers of these clouds. */
export interface RestDeps {
  retry?: Partial<RetryOptions>;
  /** the connection's backoff and the drivers' waits */
  sleep?: (ms: number) => Promise<void>;
  /** items asked per page; default the API's maximum */
  pageSize?: number;
  /** between polls of an action or a state (default 2000) */
  pollIntervalMs?: number;
  /** the most one wait lasts (default 600000) */
  waitTimeoutMs?: number;
  /** replaces process.env when looking for the token */
  env?: NodeJS.ProcessEnv;
}

/** The account's token: `credentials.token`, else the environment variable. Never echoed. */
export function resolveToken(account: AccountConfig, api: RestApi, env: NodeJS.ProcessEnv = process.env): string {
  const token = account.credentials.token?.trim() || env[api.tokenEnv]?.trim();
  if (!token) throw new AuthenticationError(`account "${account.id}": no API token (set credentials.token or ${api.tokenEnv})`, { provider: api.provider });
  return token;
}

/**
 * Problems with the account's credentials and endpoint, naming fields and never values. Options
 * are the driver's to check (`optionProblems`).
 */
export function validateRestAccount(account: AccountConfig, api: RestApi, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(account.credentials)) {
    if (key !== 'token') problems.push(`credentials.${key} is not a ${api.provider} credential (it takes only token)`);
  }
  const given = account.credentials.token;
  if (given !== undefined && given.trim() === '') problems.push('credentials.token must not be empty');
  else if (given === undefined && !env[api.tokenEnv]?.trim()) problems.push(`credentials.token is required (or set ${api.tokenEnv})`);
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push(`endpoint must be an absolute URL (the API base, like ${api.baseUrl})`);
  return problems;
}

/** Checks `account.options` against the keys a driver knows and the check of each. */
export function optionProblems(
  account: AccountConfig,
  provider: string,
  checks: Record<string, (value: unknown) => string | undefined>,
): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(account.options)) {
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (!check) problems.push(`options.${key} is not a ${provider} option (known: ${Object.keys(checks).join(', ') || 'none'})`);
    else {
      const problem = check(value);
      if (problem) problems.push(`options.${key} ${problem}`);
    }
  }
  return problems;
}

/** A non-empty string option, e.g. a default region. */
export const nonEmptyString = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string');

/** The instance's connection, created on first use (the token is resolved then). */
export function restConnection(ctx: DriverContext, api: RestApi, deps: RestDeps = {}): { get(): Connection; close(): Promise<void> } {
  let conn: Connection | undefined;
  return {
    get() {
      if (conn) return conn;
      const token = resolveToken(ctx.account, api, deps.env);
      const parseError = restErrorParser({ provider: api.provider, resetHeader: api.resetHeader, details: api.details, conflictCodes: api.conflictCodes, now: ctx.now });
      conn = createConnection({
        provider: api.provider,
        baseUrl: ctx.account.endpoint ?? api.baseUrl,
        signer: bearerSigner(staticToken(token)),
        recordCall: ctx.recordCall,
        now: ctx.now,
        retry: deps.retry,
        sleep: deps.sleep,
        parseError,
        defaults: ctx.http,
      });
      return conn;
    },
    close: async () => {
      await conn?.close();
    },
  };
}

/** The page size to ask for: the deps' (tests), kept within the API's bounds. */
export function pageSizeOf(deps: RestDeps, max: number, min = 1): number {
  return Math.max(min, Math.min(deps.pageSize ?? max, max));
}

/** How the drivers wait for actions and states. */
export function waitOptionsOf(ctx: DriverContext, deps: RestDeps, provider: string): WaitOptions {
  return { provider, intervalMs: deps.pollIntervalMs ?? 2000, timeoutMs: deps.waitTimeoutMs ?? 600_000, sleep: deps.sleep ?? realSleep, now: ctx.now };
}
