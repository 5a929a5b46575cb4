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
  route53: async () => (await import('./aws/route53/index.ts')).route53Provider,
  'digitalocean-dns': async () => (await import('./digitalocean/index.ts')).digitalOceanDnsProvider,
  designate: async () => (await import('./openstack/designate/index.ts')).designateProvider,
  'rackspace-dns': async () => (await import('./rackspace/dns/index.ts')).rackspaceDnsProvider,
  powerdns: async () => (await import('./powerdns/index.ts')).powerDnsProvider,
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
