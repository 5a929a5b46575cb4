/** A push-to-pull queue: one subscriber's async iterator over events pushed by the manager. */

export interface EventQueue<T> {
  iterator: AsyncIterableIterator<T>;
  push(event: T): void;
  /** ends the iterator once the queued events are read */
  end(): void;
}

/** `onClose` runs once, when the consumer stops, `signal` aborts, or the ended queue is drained. */
export function createEventQueue<T>(onClose: () => void, signal?: AbortSignal): EventQueue<T> {
  const queued: T[] = [];
  let waiting: ((r: IteratorResult<T>) => void) | undefined;
  let ended = false;
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', stop);
    onClose();
  };
  const stop = () => {
    ended = true;
    queued.length = 0;
    close();
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
  };
  signal?.addEventListener('abort', stop, { once: true });
  // why: later, so that onClose may refer to the queue this call returns
  if (signal?.aborted) queueMicrotask(stop);

  const iterator: AsyncIterableIterator<T> = {
    next() {
      const value = queued.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (ended) {
        close();
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  return {
    iterator,
    push(event) {
      if (ended) return;
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ value: event, done: false });
      } else {
        queued.push(event);
      }
    },
    end() {
      if (ended) return;
      ended = true;
      if (waiting && queued.length === 0) {
        const w = waiting;
        waiting = undefined;
        close();
        w({ value: undefined, done: true });
      }
    },
  };
}
