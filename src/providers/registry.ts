/**
 * Driver registry: name -> lazy loader of its ProviderDefinition, so a process only loads the
 * drivers its config names. Adding a provider is one line here (see docs/architecture.md).
 */
import type { ProviderDefinition } from './types.ts';

type Loader = () => Promise<ProviderDefinition>;

const DRIVERS: Record<string, Loader> = {
  sandbox: async () => (await import('./sandbox/index.ts')).sandboxProvider,
  local: async () => (await import('./local/index.ts')).localProvider,
  s3: async () => (await import('./aws/s3/index.ts')).s3Provider,
  ec2: async () => (await import('./aws/ec2/index.ts')).ec2Provider,
  elb: async () => (await import('./aws/elb/index.ts')).elbProvider,
  alb: async () => (await import('./aws/alb/index.ts')).albProvider,
  openstack: async () => (await import('./openstack/nova/index.ts')).openstackProvider,
  rackspace: async () => (await import('./openstack/nova/index.ts')).rackspaceProvider,
  octavia: async () => (await import('./openstack/octavia/index.ts')).octaviaProvider,
  'rackspace-clb': async () => (await import('./rackspace/clb/index.ts')).rackspaceClbProvider,
  swift: async () => (await import('./openstack/swift/index.ts')).swiftProvider,
  cloudfiles: async () => (await import('./openstack/swift/index.ts')).cloudfilesProvider,
  kubevirt: async () => (await import('./kubevirt/index.ts')).kubevirtProvider,
  cloudsigma: async () => (await import('./cloudsigma/v1/index.ts')).cloudsigmaProvider,
  cloudsigma2: async () => (await import('./cloudsigma/v2/index.ts')).cloudsigma2Provider,
  bluebox: async () => (await import('./bluebox/index.ts')).blueboxProvider,
  'azure-blob': async () => (await import('./azure/blob/index.ts')).azureBlobProvider,
  azure: async () => (await import('./azure/arm/index.ts')).azureProvider,
  'azure-lb': async () => (await import('./azure/arm/index.ts')).azureLbProvider,
  gce: async () => (await import('./google/gce/index.ts')).gceProvider,
  gcs: async () => (await import('./google/gcs/index.ts')).gcsProvider,
  'gce-lb': async () => (await import('./google/gce-lb/index.ts')).gceLbProvider,
  digitalocean: async () => (await import('./digitalocean/index.ts')).digitaloceanProvider,
  'digitalocean-lb': async () => (await import('./digitalocean/index.ts')).digitaloceanLbProvider,
  hetzner: async () => (await import('./hetzner/index.ts')).hetznerProvider,
  'hetzner-lb': async () => (await import('./hetzner/index.ts')).hetznerLbProvider,
  linode: async () => (await import('./linode/index.ts')).linodeProvider,
  'linode-lb': async () => (await import('./linode/index.ts')).linodeLbProvider,
  vultr: async () => (await import('./vultr/index.ts')).vultrProvider,
  'vultr-lb': async () => (await import('./vultr/index.ts')).vultrLbProvider,
  route53: async () => (await import('./aws/route53/index.ts')).route53Provider,
  'digitalocean-dns': async () => (await import('./digitalocean/index.ts')).digitaloceanDnsProvider,
  designate: async () => (await import('./openstack/designate/index.ts')).designateProvider,
  'rackspace-dns': async () => (await import('./rackspace/dns/index.ts')).rackspaceDnsProvider,
  powerdns: async () => (await import('./powerdns/index.ts')).powerDnsProvider,
  'google-dns': async () => (await import('./google/dns/index.ts')).googleDnsProvider,
};

/** Every registered driver name, sorted. */
export function providerNames(): string[] {
  return Object.keys(DRIVERS).sort();
}

/** Loads a driver's definition, or undefined when no driver has that name. */
export async function loadProvider(name: string): Promise<ProviderDefinition | undefined> {
  const loader = Object.hasOwn(DRIVERS, name) ? DRIVERS[name] : undefined;
  return loader ? loader() : undefined;
}
