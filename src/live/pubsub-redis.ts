/**
 * Redis pubsub between replicas: one publisher and one subscriber connection per process,
 * events as JSON (Node.createdAt revived). SUBSCRIBE/UNSUBSCRIBE per channel are serialised so a
 * channel left and re-joined at once ends up subscribed.
 */
import { decodeEvent, encodeEvent } from './codec.ts';
import { closeRedis, connectRedis, whenReady, type RedisConnectionOptions } from './redis-connection.ts';
import type { LiveEvent, PubSub } from './types.ts';

/** Pubsub over Redis at `url` (redis://[user:pass@]host:port[/db]); close() quits both connections. */
export function redisPubSub(url: string, opts: RedisConnectionOptions = {}): PubSub {
  const publisher = connectRedis(url, 'pub', opts);
  const subscriber = connectRedis(url, 'sub', opts);
  const handlers = new Map<string, Set<(e: LiveEvent) => void>>();
  const subscribed = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  subscriber.on('message', (channel: string, text: string) => {
    const set = handlers.get(channel);
    if (!set || set.size === 0) return;
    let event: LiveEvent;
    try {
      event = decodeEvent(text);
    } catch (err) {
      opts.logger?.warn('live: dropped an unreadable event', { channel, message: (err as Error).message });
      return;
    }
    for (const handler of [...set]) {
      try {
        handler(event);
      } catch (err) {
        console.error('[live] redis subscriber threw', err);
      }
    }
  });

  /** brings the Redis subscription of `channel` in line with whether anyone listens */
  function sync(channel: string): Promise<void> {
    const run = queue.then(async () => {
      if (closed) return;
      const wanted = (handlers.get(channel)?.size ?? 0) > 0;
      if (wanted === subscribed.has(channel)) return;
      await whenReady(subscriber);
      if (closed) return;
      if (wanted && !subscribed.has(channel)) {
        await subscriber.subscribe(channel);
        subscribed.add(channel);
      } else if (!wanted && subscribed.has(channel)) {
        subscribed.delete(channel);
        await subscriber.unsubscribe(channel);
      }
    });
    queue = run.catch(() => undefined);
    return run;
  }

  return {
    async publish(channel, event) {
      if (closed) return;
      await publisher.publish(channel, encodeEvent(event));
    },
    async subscribe(channel, onEvent) {
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      const handler = (e: LiveEvent) => onEvent(e);
      set.add(handler);
      const own = set;
      try {
        await sync(channel);
      } catch (err) {
        own.delete(handler);
        if (own.size === 0 && handlers.get(channel) === own) handlers.delete(channel);
        throw err;
      }
      return async () => {
        own.delete(handler);
        if (own.size === 0 && handlers.get(channel) === own) handlers.delete(channel);
        await sync(channel);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      handlers.clear();
      await Promise.all([closeRedis(publisher), closeRedis(subscriber)]);
    },
  };
}
