/** Bounded polling for the drivers' waits (actions to finish, resources to reach a state). */
import { TimeoutError } from '../errors.ts';
import { sleep } from '../call-scope.ts';

export interface WaitOptions {
  provider: string;
  intervalMs: number;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

/**
 * Calls `poll` until it answers a value (not undefined), sleeping `intervalMs` between calls;
 * a TimeoutError naming `what` when `timeoutMs` passes first. `poll` throws to stop early.
 */
export async function waitFor<T>(poll: () => Promise<T | undefined>, what: string, opts: WaitOptions): Promise<T> {
  const deadline = opts.now().getTime() + opts.timeoutMs;
  for (;;) {
    const value = await poll();
    if (value !== undefined) return value;
    if (opts.now().getTime() >= deadline) throw new TimeoutError(`gave up after ${opts.timeoutMs} ms waiting for ${what}`, { provider: opts.provider });
    await opts.sleep(opts.intervalMs);
  }
}

/** A real wait that ends with the call's deadline (src/providers/call-scope.ts). */
export const realSleep = (ms: number): Promise<void> => sleep(ms);
