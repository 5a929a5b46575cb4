/**
 * The fault matrix: every remote driver (drivers.ts) against every fault (fault-server.ts),
 * through the real HTTP server. Each fault must give each account a partial failure with the
 * right code, a top-level error naming the account, within the account's deadline, and never
 * a crash or a fake empty success.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_CODE, FAULT_KINDS } from './fault-server.ts';
import { startFaultHarness, type FaultHarness } from './harness.ts';

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
    const want = Object.fromEntries(h.drivers.map((d) => [d.name, EXPECTED_CODE[kind]]));
    expect(got).toEqual(want);
    for (const d of h.drivers) {
      const top = answer.errors.find((e) => e.extensions?.account === d.name);
      expect(top?.extensions?.code, d.name).toBe(EXPECTED_CODE[kind]);
    }
    for (const s of h.servers.values()) expect(s.requests).toBeGreaterThan(0);
  });
});
