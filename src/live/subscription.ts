/**
 * One subscriber's event queue as an async iterator. Pushes never block the poller; a
 * subscriber that falls `maxQueued` events behind is ended with an error instead of growing
 * without bound.
 */
import { SkygraphError } from '../providers/errors.ts';
import type { LiveEvent, LiveSubscription } from './types.ts';

export interface SubscriptionQueue {
  subscription: LiveSubscription;
  push(event: LiveEvent): void;
  /** ends the iterator (pending next() resolves done) without calling onClose */
  end(): void;
  /** ends the iterator with an error (the next next() rejects), then calls onClose */
  fail(err: SkygraphError): void;
}

export function createSubscriptionQueue(opts: {
  maxQueued: number;
  ready: Promise<void>;
  /** called once, when the consumer returns/throws or the queue fails */
  onClose: () => void;
}): SubscriptionQueue {
  const buffer: LiveEvent[] = [];
  let head = 0;
  let waiting: { resolve: (r: IteratorResult<LiveEvent>) => void; reject: (e: unknown) => void } | null = null;
  let finished = false;
  let failure: SkygraphError | null = null;

  function end(): void {
    if (finished) return;
    finished = true;
    if (waiting && !failure) {
      waiting.resolve({ value: undefined, done: true });
      waiting = null;
    }
  }

  function close(): void {
    if (finished) return;
    end();
    opts.onClose();
  }

  function fail(err: SkygraphError): void {
    if (finished) return;
    failure = err;
    const w = waiting;
    waiting = null;
    close();
    w?.reject(err);
  }

  const subscription: LiveSubscription = {
    ready: opts.ready,
    next() {
      if (head < buffer.length) {
        const value = buffer[head++] as LiveEvent;
        if (head === buffer.length) {
          buffer.length = 0;
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (failure) {
        const err = failure;
        failure = null;
        return Promise.reject(err);
      }
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return() {
      buffer.length = 0;
      head = 0;
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err?: unknown) {
      buffer.length = 0;
      head = 0;
      close();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return subscription;
    },
  };

  return {
    subscription,
    push(event) {
      if (finished) return;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w.resolve({ value: event, done: false });
        return;
      }
      if (buffer.length - head >= opts.maxQueued) {
        buffer.length = 0;
        head = 0;
        fail(new SkygraphError('UNAVAILABLE', `[live] subscriber fell ${opts.maxQueued} events behind and was ended`));
        return;
      }
      buffer.push(event);
    },
    end,
    fail,
  };
}
