/**
 * The `cloudsigma2` provider: CloudSigma API 2.0 (JSON, HTTP Basic), one instance per
 * (account, location); each location is its own API endpoint.
 *
 * ```yaml
 * accounts:
 *   - id: sigma
 *     driver: cloudsigma2
 *     regions: [zrh, wdc]
 *     credentials: { username: me@example.com, password: "${CLOUDSIGMA_PASSWORD}" }
 *     options: { prices: { small: 0.05 } }   # optional: USD/hour by size id, instead of /pricing/
 * ```
 *
 * `endpoint` (an API base URL such as `https://zrh.cloudsigma.com/api/2.0/`) replaces the
 * location's endpoint for every region the account names.
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { priceTable, validateCloudSigmaAccount, type CloudSigmaDeps } from '../common.ts';
import { CLOUDSIGMA2_REGIONS, createCs2Api, DEFAULT_REGION, DRIVER_NAME } from './api.ts';
import { cs2ComputeDriver } from './compute.ts';

export { CLOUDSIGMA2_REGIONS, parseCloudSigma2Error } from './api.ts';
export { NODE_STATE } from './mappers.ts';

/** Registry entry; `deps` are test seams. */
export function createCloudSigma2Provider(deps: CloudSigmaDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'CloudSigma',
    services: ['COMPUTE'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: validateCloudSigma2Account,
    create: (ctx) => createCloudSigma2Instance(ctx, deps),
  };
}

export const cloudsigma2Provider: ProviderDefinition = createCloudSigma2Provider();

/** One (account, location) instance. */
export function createCloudSigma2Instance(ctx: DriverContext, deps: CloudSigmaDeps = {}): ProviderInstance {
  const api = createCs2Api(ctx, deps);
  return { compute: cs2ComputeDriver(api, priceTable(ctx.account)), close: () => api.close() };
}

/** Problems with a cloudsigma2 account, naming fields and never their values. */
export function validateCloudSigma2Account(account: AccountConfig): string[] {
  return validateCloudSigmaAccount(account, DRIVER_NAME, CLOUDSIGMA2_REGIONS);
}
