/**
 * The `azure` provider (Azure virtual machines) and the `azure-lb` provider (Azure Load
 * Balancer), both through Azure Resource Manager, one instance per Azure location (region).
 *
 *   - id: azure
 *     driver: azure
 *     regions: [eastus, westeurope]
 *     credentials: { tenantId: ${AZURE_TENANT_ID}, clientId: ${AZURE_CLIENT_ID}, clientSecret: ${AZURE_CLIENT_SECRET} }
 *     options:
 *       subscriptionId: 3f9c2a61-7d4e-4b8a-9c1e-5a2b6d8e0f14
 *       resourceGroup: skygraph-rg          # where createNode puts VMs
 *       subnetId: /subscriptions/…/resourceGroups/skygraph-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default
 *   - id: azure-lb
 *     driver: azure-lb
 *     regions: [eastus]
 *     options:
 *       subscriptionId: 3f9c2a61-7d4e-4b8a-9c1e-5a2b6d8e0f14
 *       resourceGroup: skygraph-rg          # where createBalancer puts balancers
 *       virtualNetworkId: /subscriptions/…/resourceGroups/skygraph-rg/providers/Microsoft.Network/virtualNetworks/vnet
 *       # subnetId: …/subnets/default        # makes new balancers internal
 *
 * Without credentials the service principal comes from AZURE_TENANT_ID, AZURE_CLIENT_ID and
 * AZURE_CLIENT_SECRET, and the subscription from AZURE_SUBSCRIPTION_ID. `endpoint` replaces
 * https://management.azure.com and options.loginEndpoint https://login.microsoftonline.com.
 */
import type { AccountConfig, ProviderDefinition, ProviderInstance } from '../../types.ts';
import { ARM_OPTION_KEYS, createArmForAccount, validateArmAccount, type ArmAccountOptions } from './account.ts';
import type { ArmClient } from './client.ts';
import { azureComputeDriver } from './compute.ts';
import { azureLoadBalancerDriver } from './loadbalancer.ts';
import { parseUrn } from './mappers.ts';

/** Options of the `azure` provider, besides the ARM ones in account.ts. */
export interface AzureOptions extends ArmAccountOptions {
  resourceGroup?: string;
  subnetId?: string;
  /** the Linux user createNode sets up (default azureuser) */
  adminUsername?: string;
  /** give new VMs a Standard static public IP (default true) */
  publicIp?: boolean;
  /** managed disk type of new OS disks (default StandardSSD_LRS) */
  osDiskType?: string;
  /** marketplace images listImages offers, as `publisher:offer:sku:version` (default DEFAULT_MARKETPLACE_IMAGES) */
  marketplaceImages?: string[];
}

/** Options of the `azure-lb` provider, besides the ARM ones in account.ts. */
export interface AzureLbOptions extends ArmAccountOptions {
  resourceGroup?: string;
  /** makes new balancers internal, with a private frontend in this subnet */
  subnetId?: string;
  /** the virtual network member addresses live in (default the subnet's) */
  virtualNetworkId?: string;
}

export const AZURE_DRIVER = 'azure';
export const AZURE_LB_DRIVER = 'azure-lb';
export const DEFAULT_REGION = 'eastus';
/**
 * why: the marketplace holds tens of thousands of images, one list call per publisher, offer and
 * SKU; listImages offers these well-known ones (and the subscription's managed images) instead
 */
export const DEFAULT_MARKETPLACE_IMAGES = [
  'Canonical:ubuntu-24_04-lts:server:latest',
  'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest',
  'Debian:debian-12:12-gen2:latest',
  'RedHat:RHEL:9-lvm-gen2:latest',
  'MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest',
];
const OPTION_KEYS = [...ARM_OPTION_KEYS, 'resourceGroup', 'subnetId', 'adminUsername', 'publicIp', 'osDiskType', 'marketplaceImages'];

const LB_OPTION_KEYS = [...ARM_OPTION_KEYS, 'resourceGroup', 'subnetId', 'virtualNetworkId'];
const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
const VNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+$/i;

export function validateAzureAccount(account: AccountConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems = optionProblems(account, env, AZURE_DRIVER, OPTION_KEYS, ['resourceGroup', 'subnetId', 'adminUsername', 'osDiskType']);
  const o = account.options ?? {};
  if (typeof o.subnetId === 'string' && !SUBNET_ID.test(o.subnetId)) problems.push('options.subnetId must be a subnet resource id');
  if (o.publicIp !== undefined && typeof o.publicIp !== 'boolean') problems.push('options.publicIp must be true or false');
  if (o.marketplaceImages !== undefined) {
    if (!Array.isArray(o.marketplaceImages)) problems.push('options.marketplaceImages must be a list of publisher:offer:sku:version');
    else o.marketplaceImages.forEach((urn, i) => typeof urn === 'string' && parseUrn(urn) ? undefined : problems.push(`options.marketplaceImages[${i}] must be publisher:offer:sku:version`));
  }
  problems.push(...regionProblems(account));
  return problems;
}

export function validateAzureLbAccount(account: AccountConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems = optionProblems(account, env, AZURE_LB_DRIVER, LB_OPTION_KEYS, ['resourceGroup']);
  const o = account.options ?? {};
  if (o.subnetId !== undefined && (typeof o.subnetId !== 'string' || !SUBNET_ID.test(o.subnetId))) problems.push('options.subnetId must be a subnet resource id');
  if (o.virtualNetworkId !== undefined && (typeof o.virtualNetworkId !== 'string' || !VNET_ID.test(o.virtualNetworkId))) problems.push('options.virtualNetworkId must be a virtual network resource id');
  problems.push(...regionProblems(account));
  return problems;
}

export const azureProvider: ProviderDefinition = armProvider({
  name: AZURE_DRIVER,
  title: 'Azure Virtual Machines',
  services: ['COMPUTE'],
  validate: validateAzureAccount,
  create(options: AzureOptions, base) {
    const compute = azureComputeDriver({
      ...base,
      resourceGroup: options.resourceGroup,
      subnetId: options.subnetId,
      adminUsername: options.adminUsername ?? 'azureuser',
      publicIp: options.publicIp ?? true,
      osDiskType: options.osDiskType ?? 'StandardSSD_LRS',
      marketplaceImages: options.marketplaceImages ?? DEFAULT_MARKETPLACE_IMAGES,
    });
    return { compute };
  },
});

/** The `azure-lb` provider: Azure Load Balancer (Standard) through ARM; see loadbalancer.ts. */
export const azureLbProvider: ProviderDefinition = armProvider({
  name: AZURE_LB_DRIVER,
  title: 'Azure Load Balancer',
  services: ['LOADBALANCER'],
  validate: validateAzureLbAccount,
  create(options: AzureLbOptions, base) {
    const loadBalancer = azureLoadBalancerDriver({
      ...base,
      resourceGroup: options.resourceGroup,
      subnetId: options.subnetId,
      virtualNetworkId: options.virtualNetworkId,
    });
    return { loadBalancer };
  },
});

// --- Internal helpers ---

function regionProblems(account: AccountConfig): string[] {
  const problems: string[] = [];
  account.regions.forEach((r, i) => {
    if (!/^[a-z0-9]+$/.test(r)) problems.push(`regions[${i}] must be an Azure location name such as eastus`);
  });
  return problems;
}

/** What every ARM driver is built with. */
interface ArmBase {
  provider: string;
  arm: ArmClient;
  subscriptionId: string;
  location: string;
}

/** A regional provider on one ARM connection per (account, location), closed with the instance. */
function armProvider<O>(def: {
  name: string;
  title: string;
  services: ProviderDefinition['services'];
  validate: (account: AccountConfig) => string[];
  create: (options: O, base: ArmBase) => Omit<ProviderInstance, 'close'>;
}): ProviderDefinition {
  return {
    name: def.name,
    title: def.title,
    services: def.services,
    regional: true,
    defaultRegion: DEFAULT_REGION,
    validate: (account) => def.validate(account),
    create(ctx) {
      const { arm, subscriptionId, close } = createArmForAccount(ctx, def.name);
      const base = { provider: def.name, arm, subscriptionId, location: ctx.region ?? DEFAULT_REGION };
      return { ...def.create(ctx.account.options as O, base), close };
    },
  };
}

/** The ARM account problems, then options the driver does not take and string options left empty. */
function optionProblems(account: AccountConfig, env: NodeJS.ProcessEnv, driver: string, keys: readonly string[], stringKeys: readonly string[]): string[] {
  const problems = validateArmAccount(account, env);
  const o = account.options ?? {};
  for (const key of Object.keys(o)) if (!keys.includes(key)) problems.push(`options.${key} is not an ${driver} option (known: ${keys.join(', ')})`);
  for (const key of stringKeys) {
    if (o[key] !== undefined && (typeof o[key] !== 'string' || o[key] === '')) problems.push(`options.${key} must be a non-empty string`);
  }
  return problems;
}
