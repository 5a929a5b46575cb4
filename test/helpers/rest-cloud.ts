/**
 * What the tests of the bearer-token clouds (DigitalOcean, Hetzner, Linode, Vultr) share: fast
 * retries and waits, the compute capabilities none of their drivers has, and a harness with the
 * compute and load-balancer instances of one account on the cloud's test server.
 */
import type { RestDeps } from '../../src/providers/rest/account.ts';
import type { AccountConfig, ComputeDriver, DriverContext, LoadBalancerDriver, ProviderInstance } from '../../src/providers/types.ts';
import { pollUntil } from '../conformance/assertions.ts';
import { computeCapabilitiesExcept } from '../conformance/compute.ts';
import { testDriverContext } from './driver-context.ts';
import { driverHarness, type DriverHarness, type HarnessServer } from './driver-harness.ts';

/** Retries and polls in milliseconds, so a test never waits the real backoff. */
export const REST_FAST: RestDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) };

/** How the conformance suites wait for these clouds' state changes. */
export const REST_WAIT = { waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }), waitTimeoutMs: 5_000 };

/** None of these drivers makes images, volumes or key pairs. */
export const REST_COMPUTE_CAPABILITIES = computeCapabilitiesExcept(
  'createImage', 'deleteImage', 'copyImage', 'listVolumes', 'createVolume', 'attachVolume', 'detachVolume', 'destroyVolume',
  'listVolumeSnapshots', 'createVolumeSnapshot', 'destroyVolumeSnapshot', 'listKeyPairs', 'getKeyPair', 'createKeyPair', 'importKeyPair', 'deleteKeyPair',
);

/** The compute and load-balancer drivers of one account. */
export interface RestPair {
  compute: ComputeDriver;
  lb: LoadBalancerDriver;
}

/** One cloud: its driver name (the balancer's is `<driver>-lb`), token, account options and instance factories. */
export interface RestCloud {
  driver: string;
  token: string;
  /** the account options; the balancer instance gets them, the compute instance none */
  options: Record<string, unknown>;
  compute(ctx: DriverContext, deps: RestDeps): ProviderInstance;
  lb(ctx: DriverContext, deps: RestDeps): ProviderInstance;
}

/** What a test changes: account fields, and deps over REST_FAST. */
export interface RestHarnessOptions {
  account?: Partial<AccountConfig>;
  deps?: RestDeps;
}

/** Both instances on `server` (with the account's endpoint there); close() closes them, then the server. */
export function restPairHarness<S extends HarnessServer & { endpoint: string }>(server: S, cloud: RestCloud, opts: RestHarnessOptions = {}): DriverHarness<S, RestPair> {
  const ctx = testDriverContext({ driver: cloud.driver, endpoint: server.endpoint, credentials: { token: cloud.token }, options: cloud.options, ...opts.account });
  const compute = cloud.compute({ ...ctx, account: { ...ctx.account, options: {} } }, { ...REST_FAST, ...opts.deps });
  const lb = cloud.lb({ ...ctx, account: { ...ctx.account, driver: `${cloud.driver}-lb` } }, { ...REST_FAST, ...opts.deps });
  const both = { close: async () => (await compute.close?.(), await lb.close?.()) };
  return driverHarness(server, ctx, both, { compute: compute.compute!, lb: lb.loadBalancer! });
}
