/**
 * In-process pubsub: the embedded default when no Redis is configured. Delivers synchronously,
 * by reference (no copies), and isolates a throwing handler from the others.
 */
import type { LiveEvent, PubSub } from './types.ts';

/** A PubSub for one process; `listenerCount()` lets tests prove nothing was left subscribed. */
export interface InProcessPubSub extends PubSub {
  listenerCount(channel?: string): number;
}

/** Pubsub within this process; the default when no `pubsub: redis://...` is configured. */
export function inProcessPubSub(): InProcessPubSub {
  const channels = new Map<string, Set<(e: LiveEvent) => void>>();
  let closed = false;

  return {
    async publish(channel, event) {
      if (closed) return;
      const handlers = channels.get(channel);
      if (!handlers) return;
      for (const handler of [...handlers]) {
        try {
          handler(event);
        } catch (err) {
          console.error('[live] in-process subscriber threw', err);
        }
      }
    },
    async subscribe(channel, onEvent) {
      let handlers = channels.get(channel);
      if (!handlers) channels.set(channel, (handlers = new Set()));
      // why: wrap so the same function subscribed twice gets two independent subscriptions
      const handler = (e: LiveEvent) => onEvent(e);
      handlers.add(handler);
      return async () => {
        handlers.delete(handler);
        if (handlers.size === 0 && channels.get(channel) === handlers) channels.delete(channel);
      };
    },
    async close() {
      closed = true;
      channels.clear();
    },
    listenerCount(channel) {
      if (channel !== undefined) return channels.get(channel)?.size ?? 0;
      let n = 0;
      for (const handlers of channels.values()) n += handlers.size;
      return n;
    },
  };
}
