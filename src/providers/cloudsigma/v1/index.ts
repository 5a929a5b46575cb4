/**
 * The `cloudsigma` provider: CloudSigma API 1.0 (plain-text `key value` bodies, HTTP Basic), one
 * instance per (account, location); each location is its own API endpoint.
 *
 * ```yaml
 * accounts:
 *   - id: sigma-legacy
 *     driver: cloudsigma
 *     region: zrh                    # zrh or lvs
 *     credentials: { username: me@example.com, password: "${CLOUDSIGMA_PASSWORD}" }
 *     options: { prices: { small: 0.05 } }   # optional: USD/hour by size id
 * ```
 *
 * `endpoint` (an API base URL such as `https://api.zrh.cloudsigma.com/`) replaces the location's
 * endpoint for every region the account names.
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { priceTable, validateCloudSigmaAccount, type CloudSigmaDeps } from '../common.ts';
import { CLOUDSIGMA_REGIONS, createCs1Api, DEFAULT_REGION, DRIVER_NAME } from './api.ts';
import { cs1ComputeDriver } from './compute.ts';

export { CLOUDSIGMA_REGIONS } from './api.ts';
export { INDICATIVE_RATES } from './compute.ts';
export { NODE_STATE } from './mappers.ts';

/** Registry entry; `deps` are test seams. */
export function createCloudSigmaProvider(deps: CloudSigmaDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'CloudSigma (API 1.0)',
    services: ['COMPUTE'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateCloudSigma1Account,
    create: (ctx) => createCloudSigmaInstance(ctx, deps),
  };
}

export const cloudsigmaProvider: ProviderDefinition = createCloudSigmaProvider();

/** One (account, location) instance. */
export function createCloudSigmaInstance(ctx: DriverContext, deps: CloudSigmaDeps = {}): ProviderInstance {
  const api = createCs1Api(ctx, deps);
  return { compute: cs1ComputeDriver(api, priceTable(ctx.account)), close: () => api.close() };
}

/** Problems with a cloudsigma account, naming fields and never their values. */
export function validateCloudSigma1Account(account: AccountConfig): string[] {
  return validateCloudSigmaAccount(account, DRIVER_NAME, CLOUDSIGMA_REGIONS);
}
