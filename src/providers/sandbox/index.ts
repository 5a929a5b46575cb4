/**
 * The `sandbox` provider: an in-memory cloud with compute, load balancers and DNS (Libcloud's
 * dummy driver, grown up). Useful for demos, the API tests and as the reference for new drivers.
 * Options are documented on SandboxOptions; state lives as long as the provider instance.
 */
import type { ProviderDefinition } from '../types.ts';
import { sandboxCompute } from './compute.ts';
import { sandboxDns } from './dns.ts';
import { sandboxLoadBalancer } from './loadbalancer.ts';
import { DRIVER_NAME, parseSandboxOptions, validateSandboxOptions } from './options.ts';
import { seedState } from './seed.ts';
import { createRuntime } from './state.ts';

export type { SandboxOptions } from './options.ts';

export const sandboxProvider: ProviderDefinition = {
  name: DRIVER_NAME,
  title: 'skygraph sandbox',
  services: ['COMPUTE', 'LOADBALANCER', 'DNS'],
  regional: false,
  validate: (account) => validateSandboxOptions(account.options),
  create(ctx) {
    const options = parseSandboxOptions(ctx.account.options);
    const rt = createRuntime(ctx, seedState(options, ctx.now().getTime()));
    return { compute: sandboxCompute(rt), loadBalancer: sandboxLoadBalancer(rt), dns: sandboxDns(rt) };
  },
};
