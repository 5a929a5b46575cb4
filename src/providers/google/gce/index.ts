/**
 * The `gce` provider: Google Compute Engine (REST v1, JSON), one instance per (account, region);
 * a region's instance serves the zones of that region.
 *
 * ```yaml
 * accounts:
 *   - id: gcp
 *     driver: gce
 *     regions: [us-central1, europe-west1]
 *     credentials: { serviceAccountJson: "${GCP_SA_JSON}" }
 *     options: { project: my-project, imageProjects: [debian-cloud, ubuntu-os-cloud, cos-cloud] }
 * ```
 *
 * Credentials: see ../auth.ts (service-account JSON inline, options.keyFile,
 * GOOGLE_APPLICATION_CREDENTIALS, or a bare credentials.accessToken with options.project).
 * The project is options.project, else the key's project_id. `endpoint` replaces
 * https://compute.googleapis.com (the driver appends /compute/v1/projects/...).
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { PROJECT_ID, validateGoogleCredentials } from '../auth.ts';
import type { GoogleDeps } from '../client.ts';
import { createGceApi, DEFAULT_REGION, RESOURCE_NAME, zoneRegion } from './api.ts';
import { DEFAULT_IMAGE_PROJECTS, gceComputeDriver } from './compute.ts';

export type { GceCreateNodeOptions } from './create-node.ts';
export { NODE_STATE } from './mappers.ts';

export const DRIVER_NAME = 'gce';
const OPTION_KEYS = ['project', 'keyFile', 'imageProjects', 'zone'];
/** `us-central1`, `europe-west10`, `northamerica-northeast1` */
export const REGION_NAME = /^[a-z]+-[a-z]+\d{1,2}$/;

export function createGceProvider(deps: GoogleDeps = {}): ProviderDefinition {
  return {
    name: DRIVER_NAME,
    title: 'Google Compute Engine',
    services: ['COMPUTE'],
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: (account) => validateGceAccount(account, deps.env),
    create: (ctx) => createGceInstance(ctx, deps),
  };
}

export const gceProvider: ProviderDefinition = createGceProvider();

/** One (account, region) instance. */
export function createGceInstance(ctx: DriverContext, deps: GoogleDeps = {}): ProviderInstance {
  const api = createGceApi(ctx, DRIVER_NAME, deps);
  const options = ctx.account.options;
  const compute = gceComputeDriver(api, {
    imageProjects: Array.isArray(options.imageProjects) ? (options.imageProjects as string[]) : DEFAULT_IMAGE_PROJECTS,
    zone: typeof options.zone === 'string' && zoneRegion(options.zone) === api.region ? options.zone : undefined,
  });
  return { compute, close: () => api.close() };
}

/** Problems with a gce (or gce-lb) account, naming fields and never their values. */
export function validateGceAccount(account: AccountConfig, env?: Record<string, string | undefined>, optionKeys: readonly string[] = OPTION_KEYS): string[] {
  const problems = validateGoogleCredentials(account, env);
  for (const key of Object.keys(account.options)) {
    if (!optionKeys.includes(key)) problems.push(`options.${key} is not a ${account.driver} option (known: ${optionKeys.join(', ')})`);
  }
  const { imageProjects, zone } = account.options;
  if (imageProjects !== undefined && (!Array.isArray(imageProjects) || !imageProjects.every((p) => typeof p === 'string' && PROJECT_ID.test(p)))) {
    problems.push('options.imageProjects must be a list of project ids (like debian-cloud)');
  }
  if (zone !== undefined) {
    if (typeof zone !== 'string' || !RESOURCE_NAME.test(zone) || !REGION_NAME.test(zoneRegion(zone))) problems.push('options.zone must be a zone name (like us-central1-a)');
    else if (!account.regions.includes(zoneRegion(zone))) problems.push('options.zone must be a zone of one of the account regions');
  }
  account.regions.forEach((region, i) => {
    if (!REGION_NAME.test(region)) problems.push(`regions[${i}] is not a Compute Engine region name (like us-central1)`);
  });
  return problems;
}
