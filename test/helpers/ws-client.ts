/** graphql-ws subscriptions for tests: collect events into an array you can wait on. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Collected<T> {
  events: T[];
  /** true once the server completed the subscription */
  readonly completed: boolean;
  /** resolves once `count` events have arrived (rejects after ms) */
  waitFor(count: number, ms?: number): Promise<T[]>;
  stop(): void;
}

export function wsClient(httpUrl: string): Client {
  return createClient({ url: httpUrl.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
}

export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const events: T[] = [];
  const waiters: (() => void)[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(v.errors);
        else events.push(v.data as T);
        waiters.forEach((w) => w());
      },
      error: (e) => {
        errors.push(e);
        waiters.forEach((w) => w());
      },
      complete: () => {
        completed = true;
        waiters.forEach((w) => w());
      },
    },
  );
  return {
    events,
    get completed() {
      return completed;
    },
    stop,
    waitFor(count, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${events.length} of ${count} events in ${ms} ms; errors: ${JSON.stringify(errors)}${completed ? '; the server completed the subscription' : ''}`)),
          ms,
        );
        const check = () => {
          if (errors.length) {
            clearTimeout(timer);
            reject(new Error(JSON.stringify(errors)));
          } else if (events.length >= count) {
            clearTimeout(timer);
            resolve(events);
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}
