/**
 * The `google-dns` provider: Google Cloud DNS managed zones and resource record sets (REST v1).
 * Cloud DNS is global, so the provider has no regions.
 *
 * ```yaml
 * accounts:
 *   - id: gcp-dns
 *     driver: google-dns
 *     credentials: { serviceAccountJson: "${GCP_SA_JSON}" }
 *     options: { project: my-project }
 * ```
 *
 * Credentials: see ../auth.ts (service-account JSON inline, options.keyFile,
 * GOOGLE_APPLICATION_CREDENTIALS, or a bare credentials.accessToken with options.project); the
 * token asks for the ndev.clouddns.readwrite scope. `endpoint` replaces https://dns.googleapis.com
 * (the driver appends /dns/v1/projects/...).
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { GOOGLE_SCOPES, validateGoogleCredentials } from '../auth.ts';
import { createGoogleClient, type GoogleDeps } from '../client.ts';
import { DRIVER_NAME, googleDnsDriver, parseGoogleDnsError } from './dns.ts';

export { DRIVER_NAME, GOOGLE_DNS_RECORD_TYPES, parseGoogleDnsError, zoneNameFor } from './dns.ts';

export const DEFAULT_BASE_URL = 'https://dns.googleapis.com';
const OPTION_KEYS = ['project', 'keyFile'];

export function createGoogleDnsProvider(deps: GoogleDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Google Cloud DNS',
    services: ['DNS'],
    regional: false,
    validate: (account) => validateGoogleDnsAccount(account, deps.env),
    create: (ctx) => createGoogleDnsInstance(ctx, deps),
  };
}

export const googleDnsProvider: ProviderDefinition = createGoogleDnsProvider();

/** One account's driver; `deps.pageSize` sets maxResults of list calls (default: Cloud DNS chooses). */
export function createGoogleDnsInstance(ctx: DriverContext, deps: GoogleDeps = {}): ProviderInstance {
  const client = createGoogleClient(ctx, { provider: DRIVER_NAME, defaultBaseUrl: DEFAULT_BASE_URL, scopes: [GOOGLE_SCOPES.dns], deps, parseError: parseGoogleDnsError });
  return { dns: googleDnsDriver(client, { pageSize: deps.pageSize }), close: () => client.close() };
}

/** Problems with a google-dns account, naming fields and never their values. */
export function validateGoogleDnsAccount(account: AccountConfig, env?: Record<string, string | undefined>): string[] {
  const problems = validateGoogleCredentials(account, env);
  for (const key of Object.keys(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not a google-dns option (known: ${OPTION_KEYS.join(', ')})`);
  }
  if (account.regions.length) problems.push('regions: google-dns is global and takes no regions');
  return problems;
}
