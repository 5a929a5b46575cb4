/**
 * The `gce-lb` provider: Compute Engine network load balancing (forwarding rules and target
 * pools), one instance per (account, region). Same account shape as `gce`.
 *
 * ```yaml
 * accounts:
 *   - id: gcp-lb
 *     driver: gce-lb
 *     regions: [us-central1]
 *     credentials: { serviceAccountJson: "${GCP_SA_JSON}" }
 *     options: { project: my-project }
 * ```
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import type { GoogleDeps } from '../client.ts';
import { createGceApi, DEFAULT_REGION } from '../gce/api.ts';
import { validateGceAccount } from '../gce/index.ts';
import { gceLoadBalancerDriver } from './loadbalancer.ts';

export type { GceLbCreateOptions } from './loadbalancer.ts';
export { SESSION_AFFINITY } from './loadbalancer.ts';

export const DRIVER_NAME = 'gce-lb';
const OPTION_KEYS = ['project', 'keyFile'];

export function createGceLbProvider(deps: GoogleDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Google Cloud Load Balancing',
    services: ['LOADBALANCER'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: (account) => validateGceLbAccount(account, deps.env),
    create: (ctx) => createGceLbInstance(ctx, deps),
  };
}

export const gceLbProvider: ProviderDefinition = createGceLbProvider();

export function createGceLbInstance(ctx: DriverContext, deps: GoogleDeps = {}): ProviderInstance {
  const api = createGceApi(ctx, DRIVER_NAME, deps);
  return { loadBalancer: gceLoadBalancerDriver(api), close: () => api.close() };
}

/** Problems with a gce-lb account, naming fields and never their values. */
export function validateGceLbAccount(account: AccountConfig, env?: Record<string, string | undefined>): string[] {
  return validateGceAccount(account, env, OPTION_KEYS);
}
