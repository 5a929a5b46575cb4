/**
 * Connection slots: at most `limit` upstream requests of one account open at once, whatever
 * connection, region or service they go through; the rest wait in line (first come, first
 * served). The connection layer takes a slot after signing and gives it back once the response
 * is read (a streamed body: once it closes), so a busy account queues on its own slots instead
 * of taking sockets and memory from the others.
 */
import type { RawResponse } from './send.ts';

export interface ConcurrencyLimiter {
  readonly limit: number;
  /**
   * Resolves with the function that gives the slot back (calling it again does nothing); rejects
   * with the abort reason when `signal` aborts first, leaving the line.
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** slots taken and requests waiting for one, for /metrics */
  stats(): { inUse: number; queued: number };
}

export function createLimiter(limit: number): ConcurrencyLimiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  let inUse = 0;
  const queue: { grant: () => void }[] = [];

  const releaser = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = queue.shift();
      // why: the slot passes straight to the next in line, so a newcomer cannot overtake it
      if (next) next.grant();
      else inUse--;
    };
  };

  return {
    limit,
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (inUse < limit && queue.length === 0) {
        inUse++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(releaser());
          },
        };
        const onAbort = () => {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
      });
    },
    stats: () => ({ inUse, queued: queue.length }),
  };
}

/** Gives the slot back when a streamed response body closes (read to the end, failed or destroyed). */
export function releaseOnClose(body: RawResponse['body'], release: () => void): void {
  if (body.closed || body.destroyed) release();
  else body.once('close', release);
}
