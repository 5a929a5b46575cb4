/**
 * The soak: many queries against upstreams that fail at random (every fault kind), counting
 * answers by failure code and watching memory and unhandled rejections. Used by
 * test/faults/soak.test.ts and bench/faults-soak.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startFaultHarness, type QueryAnswer } from './harness.ts';

export interface SoakResult {
  queries: number;
  ms: number;
  /** account failures by code, over all queries */
  failuresByCode: Record<string, number>;
  /** queries whose answer was not 200 with every account failed and no items */
  bad: number;
  /** the first bad answer, for the message */
  firstBad?: QueryAnswer | undefined;
  unhandledRejections: number;
  rssStartMb: number;
  rssEndMb: number;
  /** heap after a full GC, after the warm-up and at the end */
  heapWarmMb: number;
  heapEndMb: number;
}

export interface SoakOptions {
  queries: number;
  /** queries in flight at once */
  concurrency: number;
  /** every account's deadline */
  timeoutMs: number;
  /** how long a hanging upstream request holds its socket */
  hangMs: number;
  /** share of upstream requests that hang (the rest get the other faults evenly) */
  timeoutShare: number;
  /** queries before the heap baseline is taken */
  warmup?: number;
  /** called every 500 queries */
  progress?: (done: number) => void;
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const gc = exposeGc();
  let unhandled = 0;
  const onUnhandled = () => void unhandled++;
  process.on('unhandledRejection', onUnhandled);
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  const rssStart = process.memoryUsage().rss;
  const h = await startFaultHarness({ timeoutMs: opts.timeoutMs, hangMs: opts.hangMs, timeoutShare: opts.timeoutShare });
  h.setFault('random');
  const failuresByCode: Record<string, number> = {};
  let bad = 0;
  let firstBad: QueryAnswer | undefined;
  let done = 0;
  let heapWarm = 0;
  const warmup = opts.warmup ?? Math.min(500, Math.floor(opts.queries / 5));
  const t0 = performance.now();
  try {
    let next = 0;
    const worker = async () => {
      while (next < opts.queries) {
        // why: one account per query, every driver in turn, so a query costs one fan-out leg
        const driver = h.drivers[next++ % h.drivers.length]!;
        const a = await h.query([driver.name]);
        for (const f of a.failures) failuresByCode[f.code] = (failuresByCode[f.code] ?? 0) + 1;
        // why: a driver whose format cannot tell some fault from "no items" (drivers.ts `expect`) may answer empty
        const answeredEmpty = a.failures.length === 0 && Object.values(driver.expect ?? {}).includes(null);
        const failedAlone = a.failures.length === 1 && a.failures[0]?.account === driver.name;
        if (a.status !== 200 || a.items !== 0 || !(failedAlone || answeredEmpty)) {
          bad++;
          firstBad ??= a;
        }
        if (++done % 500 === 0) opts.progress?.(done);
        if (done === warmup) {
          gc();
          heapWarm = process.memoryUsage().heapUsed;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    await h.stop();
    process.off('unhandledRejection', onUnhandled);
  }
  const ms = performance.now() - t0;
  gc();
  return {
    queries: done,
    ms: Math.round(ms),
    failuresByCode,
    bad,
    firstBad,
    unhandledRejections: unhandled,
    rssStartMb: mb(rssStart),
    rssEndMb: mb(process.memoryUsage().rss),
    heapWarmMb: mb(heapWarm),
    heapEndMb: mb(process.memoryUsage().heapUsed),
  };
}

/** A full garbage collection, so heap figures compare live objects rather than garbage. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
