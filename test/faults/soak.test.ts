/**
 * Soak: many queries, every remote driver in turn, while every upstream request fails with a
 * fault drawn at random (2% of them hang past the account's deadline). Every query must answer
 * with its account in `failures`; no rejection may go unhandled; the heap after a full GC must
 * not grow with the number of queries. bench/faults-soak.ts runs 5,000 and prints the figures.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from './soak.ts';

// why: 1,500 (over 34 driver entries) keeps this file near 20 s on a shared 2-core machine; the bench runs 5,000
const QUERIES = Number(process.env.SOAK_QUERIES ?? 1500);

describe('faults: soak', () => {
  it(`answers ${QUERIES} fault-injected queries with partial failures, no unhandled rejection, bounded memory`, async () => {
    const r = await runSoak({ queries: QUERIES, concurrency: 16, timeoutMs: 1000, hangMs: 1500, timeoutShare: 0.02 });
    console.log(
      `soak: ${r.queries} queries in ${r.ms} ms; failures by code ${JSON.stringify(r.failuresByCode)}; ` +
        `RSS ${r.rssStartMb} -> ${r.rssEndMb} MB; heap after GC ${r.heapWarmMb} (warm) -> ${r.heapEndMb} MB (end)`,
    );
    expect(r.queries).toBe(QUERIES);
    expect(r.bad, JSON.stringify(r.firstBad)).toBe(0);
    expect(r.unhandledRejections).toBe(0);
    for (const code of ['PROVIDER_ERROR', 'UNAVAILABLE', 'RATE_LIMITED', 'CONNECTION_FAILED', 'MALFORMED_RESPONSE', 'TIMEOUT']) {
      expect(r.failuresByCode[code], code).toBeGreaterThan(0);
    }
    expect(r.heapEndMb - r.heapWarmMb).toBeLessThan(12);
  }, 120_000);
});
