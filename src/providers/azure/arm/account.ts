/**
 * What the Azure Resource Manager drivers (`azure`, `azure-lb`) read from an account: the
 * service principal (credentials.tenantId/clientId/clientSecret, else AZURE_TENANT_ID /
 * AZURE_CLIENT_ID / AZURE_CLIENT_SECRET), the subscription (options.subscriptionId, else
 * AZURE_SUBSCRIPTION_ID), the ARM endpoint (`endpoint`, default https://management.azure.com)
 * and the login endpoint (options.loginEndpoint, default https://login.microsoftonline.com).
 */
import type { AccountConfig, DriverContext } from '../../types.ts';
import { ARM_SCOPE, azureAdTokenSource, DEFAULT_LOGIN_ENDPOINT, type ServicePrincipal } from './auth.ts';
import { ARM_ENDPOINT, createArmClient, type ArmClient } from './client.ts';

/** Options every ARM driver accepts. */
export interface ArmAccountOptions {
  /** the subscription whose resources the account sees (else AZURE_SUBSCRIPTION_ID) */
  subscriptionId?: string;
  /** the token endpoint's origin, for sovereign clouds and tests */
  loginEndpoint?: string;
  /** the token scope, default https://management.azure.com/.default */
  scope?: string;
  /** poll interval of long-running operations when ARM sends no Retry-After (ms, default 2000) */
  operationPollMs?: number;
}

export const ARM_OPTION_KEYS = ['subscriptionId', 'loginEndpoint', 'scope', 'operationPollMs'] as const;
const CREDENTIAL_KEYS = ['tenantId', 'clientId', 'clientSecret'];
const ENV: Record<keyof ServicePrincipal, string> = { tenantId: 'AZURE_TENANT_ID', clientId: 'AZURE_CLIENT_ID', clientSecret: 'AZURE_CLIENT_SECRET' };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The principal and subscription of an account; the account's values win over the environment. */
export function resolveArmAccount(account: AccountConfig, env: NodeJS.ProcessEnv = process.env): { principal: ServicePrincipal; subscriptionId: string } {
  const pick = (key: keyof ServicePrincipal) => nonEmpty(account.credentials?.[key]) ?? nonEmpty(env[ENV[key]]) ?? '';
  return {
    principal: { tenantId: pick('tenantId'), clientId: pick('clientId'), clientSecret: pick('clientSecret') },
    subscriptionId: nonEmpty(account.options?.subscriptionId) ?? nonEmpty(env.AZURE_SUBSCRIPTION_ID) ?? '',
  };
}

/** Problems with the ARM part of an account, naming fields (and variables), never values. */
export function validateArmAccount(account: AccountConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(account.credentials ?? {})) if (!CREDENTIAL_KEYS.includes(key)) problems.push(`credentials.${key} is not an Azure credential (known: ${CREDENTIAL_KEYS.join(', ')})`);
  const { principal, subscriptionId } = resolveArmAccount(account, env);
  for (const key of Object.keys(ENV) as (keyof ServicePrincipal)[]) {
    if (!principal[key]) problems.push(`credentials.${key} is required (or ${ENV[key]})`);
  }
  if (principal.tenantId && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(principal.tenantId)) problems.push('credentials.tenantId must be a tenant id or domain');
  const options = account.options ?? {};
  if (options.subscriptionId !== undefined && typeof options.subscriptionId !== 'string') problems.push('options.subscriptionId must be a string');
  else if (!subscriptionId) problems.push('options.subscriptionId is required (or AZURE_SUBSCRIPTION_ID)');
  else if (!GUID.test(subscriptionId)) problems.push('options.subscriptionId must be a subscription GUID');
  if (options.loginEndpoint !== undefined && !isHttpUrl(options.loginEndpoint)) problems.push('options.loginEndpoint must be an absolute http(s) URL');
  if (options.scope !== undefined && (typeof options.scope !== 'string' || options.scope === '')) problems.push('options.scope must be a non-empty string');
  const poll = options.operationPollMs;
  if (poll !== undefined && !(typeof poll === 'number' && Number.isInteger(poll) && poll >= 0 && poll <= 60_000)) problems.push('options.operationPollMs must be an integer from 0 to 60000');
  if (account.endpoint !== undefined && !isHttpUrl(account.endpoint)) problems.push('endpoint must be an absolute http(s) URL (the ARM endpoint)');
  return problems;
}

/** The ARM client of one driver instance, with its token source; `close` releases both. */
export function createArmForAccount(ctx: DriverContext, provider: string): { arm: ArmClient; subscriptionId: string; close(): Promise<void> } {
  const { account } = ctx;
  const options = account.options as ArmAccountOptions;
  const { principal, subscriptionId } = resolveArmAccount(account);
  const tokens = azureAdTokenSource({
    provider,
    loginEndpoint: new URL(options.loginEndpoint ?? DEFAULT_LOGIN_ENDPOINT),
    principal,
    scope: options.scope ?? ARM_SCOPE,
    recordCall: (operation) => ctx.recordCall(operation),
    now: () => ctx.now(),
    http: ctx.http,
  });
  const arm = createArmClient({
    provider,
    endpoint: new URL(account.endpoint ?? ARM_ENDPOINT),
    tokens,
    recordCall: (operation) => ctx.recordCall(operation),
    now: () => ctx.now(),
    pollIntervalMs: options.operationPollMs,
    http: ctx.http,
  });
  return {
    arm,
    subscriptionId,
    close: async () => {
      await Promise.allSettled([arm.close(), tokens.close()]);
    },
  };
}

// --- Internal helpers ---

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
