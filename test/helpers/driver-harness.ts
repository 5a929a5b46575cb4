/**
 * A driver under test wired to its recording test server: the provider tests build one per case
 * (or per conformance run) and close both together.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { ProviderInstance } from '../../src/providers/types.ts';
import type { TestDriverContext } from './driver-context.ts';

/** A test server the harness owns: closed with the driver, and recording what it refused. */
export interface HarnessServer {
  failures: string[];
  close(): Promise<void>;
}

export interface DriverHarness<S extends HarnessServer, D> {
  server: S;
  driver: D;
  ctx: TestDriverContext;
  /** closes the provider instance, then the server */
  close(): Promise<void>;
}

/** Wraps `driver` (from `instance`) with its server and context; close() closes the instance, then the server. */
export function driverHarness<S extends HarnessServer, D>(server: S, ctx: TestDriverContext, instance: ProviderInstance, driver: D): DriverHarness<S, D> {
  return {
    server,
    driver,
    ctx,
    async close() {
      await instance.close?.();
      await server.close();
    },
  };
}

/**
 * What a conformance suite's create() returns for a harness: the driver, and a cleanup that closes
 * the harness and then expects the server to have refused nothing (plus `afterCheck`, when given).
 */
export function conformanceTarget<S extends HarnessServer, D>(
  h: DriverHarness<S, D>,
  afterCheck?: () => void,
): { driver: D; cleanup(): Promise<void> } {
  return {
    driver: h.driver,
    async cleanup() {
      await h.close();
      expect(h.server.failures).toEqual([]);
      afterCheck?.();
    },
  };
}

/**
 * Makes a fresh harness before each test of the enclosing describe (stored with `slot.set`) and,
 * after it, closes the one `slot.get` returns: a test may replace it with another harness. With
 * `expectNoFailures`, each test also ends expecting that harness's server refused nothing.
 */
export function harnessPerTest<H extends DriverHarness<HarnessServer, unknown>>(
  make: () => Promise<H>,
  slot: { get(): H; set(h: H): void },
  opts: { expectNoFailures?: boolean } = {},
): void {
  beforeEach(async () => {
    slot.set(await make());
  });
  afterEach(async () => {
    const h = slot.get();
    await h.close();
    if (opts.expectNoFailures) expect(h.server.failures).toEqual([]);
  });
}
