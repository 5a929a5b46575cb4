/**
 * The `openstack` and `rackspace` providers: OpenStack Nova (compute API v2.1), with Glance v2
 * for images when there is an image endpoint.
 *
 * ```yaml
 * accounts:
 *   - id: lab
 *     driver: openstack
 *     regions: [RegionOne]
 *     endpoint: https://nova.example.net:8774/v2.1   # the compute endpoint
 *     credentials: { token: ${OS_TOKEN} }            # preset token
 *     options:
 *       imageEndpoint: https://glance.example.net:9292   # optional: Glance v2
 *       prices: { m1.small: 0.023 }                      # optional: USD/hour by flavor id or name
 *   - id: rax
 *     driver: rackspace
 *     regions: [DFW, LON]
 *     endpoint: https://dfw.servers.api.rackspacecloud.com/v2/123456
 *     credentials: { token: ${RAX_TOKEN} }
 *   - id: cloud
 *     driver: openstack
 *     regions: [RegionOne]                           # picks catalog endpoints
 *     credentials: { auth_url: https://keystone.example.net/v3, username: demo, password: ${OS_PASSWORD},
 *                    project_name: demo, user_domain_name: Default, project_domain_name: Default }
 *   - id: rax-key
 *     driver: rackspace
 *     regions: [ORD]
 *     credentials: { username: jdoe, api_key: ${RAX_API_KEY} }   # Keystone v2.0 RAX-KSKEY
 * ```
 *
 * Credentials use clouds.yaml `auth` keys (src/providers/openstack/identity). `endpoint`, when
 * set, replaces the catalog's compute endpoint; a preset credentials.token needs it.
 * `cloud: NAME` (options.cloud) reads the credentials from clouds.yaml on first use; explicit
 * credentials win over it, and its region_name is used when the account names no region.
 */
import type { AccountConfig, DriverContext, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { createNovaApi, type NovaDeps, type NovaVariant } from './api.ts';
import { accountAuth, validateCredentialsUnlessCloud } from './auth.ts';
import { novaComputeDriver } from './compute.ts';

export type { NovaDeps, NovaVariant } from './api.ts';
export type { OpenStackAuth } from './auth.ts';

/** Rackspace's public cloud regions and their countries. */
export const RACKSPACE_REGIONS: Readonly<Record<string, string>> = { DFW: 'US', ORD: 'US', IAD: 'US', LON: 'GB', SYD: 'AU', HKG: 'HK' };
/** The identity endpoint Rackspace accounts authenticate against (Keystone v2.0 + RAX-KSKEY). */
export const RACKSPACE_AUTH_URL = 'https://identity.api.rackspacecloud.com/v2.0/';

export const OPENSTACK_VARIANT: NovaVariant = { name: 'openstack', createMicroversion: '2.37', defaultNetworks: 'auto' };
/** why: the region a catalog is asked for when an openstack account names none (devstack's default) */
const OPENSTACK_DEFAULT_REGION = 'RegionOne';
// why: Rackspace's Nova predates microversions and `networks: auto`; its servers join PublicNet and ServiceNet
export const RACKSPACE_VARIANT: NovaVariant = {
  name: 'rackspace',
  createMicroversion: undefined,
  defaultNetworks: ['00000000-0000-0000-0000-000000000000', '11111111-1111-1111-1111-111111111111'],
  regionCountries: RACKSPACE_REGIONS,
};

const OPTION_KEYS = ['cloud', 'imageEndpoint', 'prices'];

/** Registry entries; `deps` are test seams. */
export function createNovaProvider(variant: NovaVariant, deps: NovaDeps = {}): ProviderDefinition {
  return {
    name: variant.name,
    title: variant.name === 'rackspace' ? 'Rackspace Cloud Servers' : 'OpenStack Nova',
    services: ['COMPUTE'],
    regional: true,
    ...(variant.regionCountries ? {} : { defaultRegion: OPENSTACK_DEFAULT_REGION }),
    validate: (account) => validateNovaAccount(account, variant),
    create: (ctx) => createNovaInstance(ctx, variant, deps),
  };
}

export const openstackProvider: ProviderDefinition = createNovaProvider(OPENSTACK_VARIANT);
export const rackspaceProvider: ProviderDefinition = createNovaProvider(RACKSPACE_VARIANT);

/** One (account, region) instance. */
export function createNovaInstance(ctx: DriverContext, variant: NovaVariant, deps: NovaDeps = {}): ProviderInstance {
  const auth =
    deps.auth ??
    accountAuth(ctx, {
      provider: variant.name,
      primaryService: 'compute',
      defaultAuthUrl: defaultAuthUrl(variant),
      defaultRegion: variant.regionCountries ? undefined : OPENSTACK_DEFAULT_REGION,
    });
  const api = createNovaApi(ctx, auth, variant, deps);
  return { compute: novaComputeDriver(api, prices(ctx.account)), close: () => api.close() };
}

/** Problems with an account, naming fields and never their values. */
export function validateNovaAccount(account: AccountConfig, variant: NovaVariant): string[] {
  const problems = validateCredentialsUnlessCloud(account, defaultAuthUrl(variant));
  if (account.endpoint !== undefined && !URL.canParse(account.endpoint)) problems.push('endpoint must be an absolute URL (the compute endpoint)');
  for (const [key, value] of Object.entries(account.options)) {
    if (!OPTION_KEYS.includes(key)) problems.push(`options.${key} is not an ${variant.name} option (known: ${OPTION_KEYS.join(', ')})`);
    else if (key === 'cloud' && (typeof value !== 'string' || value.trim() === '')) problems.push('options.cloud must be a non-empty string (a cloud of clouds.yaml)');
    else if (key === 'imageEndpoint' && (typeof value !== 'string' || !URL.canParse(value))) problems.push('options.imageEndpoint must be an absolute URL');
    else if (key === 'prices' && !isPriceTable(value)) problems.push('options.prices must map flavor ids or names to non-negative numbers');
  }
  if (variant.regionCountries) {
    if (account.regions.length === 0) problems.push(`regions: name at least one of ${Object.keys(variant.regionCountries).join(', ')}`);
    account.regions.forEach((r, i) => {
      if (!Object.hasOwn(variant.regionCountries!, r)) problems.push(`regions[${i}] is not a ${variant.name} region (${Object.keys(variant.regionCountries!).join(', ')})`);
    });
  }
  return problems;
}

// --- Internal helpers ---

function defaultAuthUrl(variant: NovaVariant): string | undefined {
  return variant.regionCountries ? RACKSPACE_AUTH_URL : undefined;
}

function isPriceTable(v: unknown): v is Record<string, number> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((p) => typeof p === 'number' && Number.isFinite(p) && p >= 0);
}

function prices(account: AccountConfig): Record<string, number> | undefined {
  return isPriceTable(account.options.prices) ? account.options.prices : undefined;
}
