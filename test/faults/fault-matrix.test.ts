/**
 * The fault matrix: every remote driver (drivers.ts) against every fault (fault-server.ts),
 * through the real HTTP server. Each fault must give each account a partial failure with the
 * right code, a top-level error naming the account, within the account's deadline, and never
 * a crash or a fake empty success.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCode } from './drivers.ts';
import { FAULT_KINDS } from './fault-server.ts';
import { startFaultHarness, TEST_HTTP, type FaultHarness } from './harness.ts';

const TIMEOUT_MS = 1500;
let h: FaultHarness;
beforeAll(async () => {
  h = await startFaultHarness({ timeoutMs: TIMEOUT_MS });
});
afterAll(() => h?.stop());

describe('faults: every remote driver, every fault', () => {
  it.each(FAULT_KINDS)('%s', async (kind) => {
    h.setFault(kind);
    const answer = await h.query();
    expect(answer.status).toBe(200);
    // why: within the account's deadline; a timeout ends at it (plus the answer's way back)
    expect(answer.ms).toBeLessThan(kind === 'timeout' ? TIMEOUT_MS + 500 : TIMEOUT_MS);
    expect(answer.items).toBe(0);
    const got = Object.fromEntries(answer.failures.map((f) => [f.account, f.code]));
    const want = Object.fromEntries(h.drivers.flatMap((d) => (expectedCode(d, kind) === null ? [] : [[d.name, expectedCode(d, kind)]])));
    expect(got).toEqual(want);
    for (const d of h.drivers) {
      const top = answer.errors.find((e) => e.extensions?.account === d.name);
      expect(top?.extensions?.code, d.name).toBe(expectedCode(d, kind) ?? undefined);
    }
    for (const s of h.servers.values()) expect(s.requests).toBeGreaterThan(0);
  });

  it('a request left hanging holds nothing up: the query after a timeout gets the next fault at once', async () => {
    h.setFault('timeout');
    expect((await h.query()).failures.every((f) => f.code === 'TIMEOUT')).toBe(true);
    // why: a token fetch still hanging would be joined by the next query and time it out too
    h.setFault('http503');
    const answer = await h.query();
    expect(answer.ms).toBeLessThan(TIMEOUT_MS);
    expect(Object.fromEntries(answer.failures.map((f) => [f.account, f.code]))).toEqual(Object.fromEntries(h.drivers.map((d) => [d.name, 'UNAVAILABLE'])));
  });
});

describe('faults: production retry settings', () => {
  it('a 429 whose Retry-After outlasts the deadline answers RATE_LIMITED within it, not TIMEOUT', async () => {
    // why: DEFAULT_RETRY (3 retries, waits up to 5 s); Retry-After: 1 fits the 1.5 s deadline once, not twice
    const prod = await startFaultHarness({ timeoutMs: TIMEOUT_MS, http: { maxResponseBytes: TEST_HTTP.maxResponseBytes } });
    try {
      prod.setFault('http429');
      const answer = await prod.query();
      expect(answer.ms).toBeLessThan(TIMEOUT_MS);
      expect(Object.fromEntries(answer.failures.map((f) => [f.account, f.code]))).toEqual(Object.fromEntries(prod.drivers.map((d) => [d.name, 'RATE_LIMITED'])));
    } finally {
      await prod.stop();
    }
  });
});
