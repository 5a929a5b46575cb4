/**
 * What the tests of the two CloudSigma drivers (`cloudsigma`, API 1.0, and `cloudsigma2`) share:
 * fast retries and waits, a context for one instance in zrh, and a harness on a test server.
 */
import type { CloudSigmaDeps } from '../../src/providers/cloudsigma/common.ts';
import type { AccountConfig, ComputeDriver, DriverContext, ProviderInstance } from '../../src/providers/types.ts';
import { pollUntil } from '../conformance/assertions.ts';
import { testDriverContext, type TestDriverContext } from './driver-context.ts';
import { driverHarness, type DriverHarness, type HarnessServer } from './driver-harness.ts';

/** Retries and polls in milliseconds, so a test never waits the real backoff. */
export const CLOUDSIGMA_FAST: CloudSigmaDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, waitTimeoutMs: 5_000, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) };

/** How the conformance suite waits for CloudSigma's state changes. */
export const CLOUDSIGMA_WAIT = { waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }), waitTimeoutMs: 5_000 };

/** One driver: its name, the test server's login and the instance factory. */
export interface CloudSigmaTarget {
  driver: string;
  credentials: { username: string; password: string };
  create(ctx: DriverContext, deps: CloudSigmaDeps): ProviderInstance;
}

/** The context of the zrh instance at `endpoint`; `account` replaces fields (credentials among them). */
export function cloudSigmaContext(target: CloudSigmaTarget, endpoint: string, account: Partial<AccountConfig> = {}): TestDriverContext {
  return testDriverContext({ driver: target.driver, regions: ['zrh'], endpoint, credentials: target.credentials, ...account }, { region: 'zrh' });
}

/** The compute driver on `server`; close() closes the instance, then the server. */
export function cloudSigmaHarness<S extends HarnessServer & { endpoint: string }>(server: S, target: CloudSigmaTarget, account?: Partial<AccountConfig>): DriverHarness<S, ComputeDriver> {
  const ctx = cloudSigmaContext(target, server.endpoint, account);
  const instance = target.create(ctx, CLOUDSIGMA_FAST);
  return driverHarness(server, ctx, instance, instance.compute!);
}
