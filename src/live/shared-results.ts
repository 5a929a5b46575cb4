/**
 * One GraphQL execution per (event, identical subscription) instead of one per subscriber.
 *
 * Every subscriber keeps its own hub subscription (its own filter, queue, back-pressure and
 * cleanup) and its own graphql-yoga/envelop result stream, so errors, masking and completion
 * are exactly as before. Only the per-event execution is shared: when an event reaches a
 * subscriber whose subscription key (document, operation, variables and whatever in the context
 * can change a result) already has a result for that event, that result is delivered as is and
 * the executor is not run again. Events travel from the hub to every subscriber by reference,
 * which makes the event object itself the memo key.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

type Step = { ok: true; result: IteratorResult<unknown> } | { ok: false; error: unknown };

interface SharedResult {
  promise: Promise<IteratorResult<unknown>>;
  /** set once the promise fulfilled, so later subscribers skip a hop */
  settled: IteratorResult<unknown> | null;
}

/** Where subscription results are remembered per event; one per server. */
export type ResultMemo = WeakMap<object, Map<string, SharedResult>>;

export function createResultMemo(): ResultMemo {
  return new WeakMap();
}

/**
 * The source side: the executor pulls events from here, and this subscriber's results stream
 * feeds it exactly one step (event, end or error) per result it asks for.
 */
interface Tap {
  source: AsyncIterator<unknown> | null;
  iterator: AsyncIterableIterator<unknown>;
  feed(step: Step): void;
}

// why: keyed by the subscription's own context object, which the subscribe resolver receives
const taps = new WeakMap<object, Tap>();

/**
 * Called by a subscription field's `subscribe` resolver with its live event source. Inside
 * `shareLiveResults` it hands the executor a tap instead; anywhere else (SSE, tests) it returns
 * the source unchanged.
 */
export function liveSource<T>(ctx: object, source: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  const tap = taps.get(ctx);
  if (!tap || tap.source) return source;
  tap.source = source;
  return tap.iterator as AsyncIterableIterator<T>;
}

function createTap(): Tap {
  let queued: Step | null = null;
  let waiting: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | null = null;
  let finished = false;
  const tap: Tap = {
    source: null,
    feed(step) {
      if (waiting) {
        const w = waiting;
        waiting = null;
        if (step.ok) w.resolve(step.result);
        else w.reject(step.error);
        return;
      }
      queued = step;
    },
    iterator: {
      next() {
        if (queued) {
          const q = queued;
          queued = null;
          return q.ok ? Promise.resolve(q.result) : Promise.reject(q.error);
        }
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (waiting = { resolve, reject }));
      },
      async return() {
        finished = true;
        waiting?.resolve({ value: undefined, done: true });
        waiting = null;
        await tap.source?.return?.();
        return { value: undefined, done: true };
      },
      async throw(err?: unknown) {
        finished = true;
        waiting?.resolve({ value: undefined, done: true });
        waiting = null;
        await tap.source?.return?.();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return tap.iterator;
      },
    },
  };
  return tap;
}

/**
 * Runs `subscribe` (the envelop subscribe of one subscription) and, when its source is a live
 * one, returns a results stream that reuses results other subscribers with the same `key` got
 * for the same event. `key` must cover everything besides the event that a result depends on.
 * `socket`, when given, is corked while this tick's results are written, so a connection with
 * many subscriptions sends one TCP write per event instead of one per subscription.
 */
export async function shareLiveResults<R>(opts: {
  ctx: object;
  key: string;
  memo: ResultMemo;
  socket?: Socket | undefined;
  /**
   * Writes `next` messages itself, each shared result serialised once: graphql-ws then only
   * sees the end of the stream (done or error) and sends `complete`/`error` as usual.
   */
  direct?: DirectSend | undefined;
  subscribe: () => Promise<AsyncIterable<R> | R> | AsyncIterable<R> | R;
}): Promise<AsyncIterable<R> | R> {
  const tap = createTap();
  taps.set(opts.ctx, tap);
  let outcome: AsyncIterable<R> | R;
  try {
    outcome = await opts.subscribe();
  } finally {
    taps.delete(opts.ctx);
  }
  const source = tap.source;
  if (!source || !isAsyncIterable(outcome)) return outcome;
  const results = outcome[Symbol.asyncIterator]();
  const { key, memo, socket, direct } = opts;

  const own = (step: Step): Promise<IteratorResult<R>> => {
    tap.feed(step);
    return results.next();
  };

  let corked = false;
  const uncork = () => {
    corked = false;
    socket!.uncork();
  };
  const cork = () => {
    if (socket && !corked && !socket.destroyed) {
      // why: graphql-ws writes this result a few microtasks from now; every other subscription
      // on this connection that has this event does the same within this tick
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
  };
  const delivered = (r: IteratorResult<R>): IteratorResult<R> => {
    if (!r.done) cork();
    return r;
  };

  const onStep = (step: IteratorResult<unknown>): IteratorResult<R> | Promise<IteratorResult<R>> => {
    const event = step.value;
    if (step.done || typeof event !== 'object' || event === null) return own({ ok: true, result: step });
    let perEvent = memo.get(event);
    if (!perEvent) memo.set(event, (perEvent = new Map()));
    const shared = perEvent.get(key);
    if (shared) {
      if (shared.settled) return shared.settled.done ? own({ ok: true, result: step }) : (shared.settled as IteratorResult<R>);
      // why: a stream that ended or failed for its own reasons says nothing about this one
      return shared.promise.then(
        (r) => (r.done ? own({ ok: true, result: step }) : (r as IteratorResult<R>)),
        () => own({ ok: true, result: step }),
      );
    }
    const entry: SharedResult = { promise: own({ ok: true, result: step }), settled: null };
    entry.promise.then((r) => (entry.settled = r), () => perEvent.delete(key));
    perEvent.set(key, entry);
    return entry.promise as Promise<IteratorResult<R>>;
  };
  // why: through the executor and envelop, so a failing source reads as it always did
  const onError = (error: unknown) => own({ ok: false, error });

  const prefix = direct ? `{"id":${JSON.stringify(direct.id)},"type":"next","payload":` : '';
  const pump = async (d: DirectSend): Promise<IteratorResult<R>> => {
    for (;;) {
      const r = await source.next().then(onStep, onError);
      if (r.done) return r;
      if (d.socket.readyState !== d.socket.OPEN) continue;
      cork();
      const message = prefix + payloadJson(r.value as ResultLike) + '}';
      // why: a socket that keeps up needs no wait per message (a failed write closes the socket,
      // which ends this stream); one that falls behind is waited for, as graphql-ws always does,
      // so it backs up into the hub's bounded queue instead of into memory here
      if (d.socket.bufferedAmount < SOCKET_HIGH_WATER) d.socket.send(message);
      else await new Promise<void>((resolve, reject) => d.socket.send(message, (err) => (err ? reject(err) : resolve())));
    }
  };

  const iterator: AsyncIterableIterator<R> = {
    next() {
      if (direct) return pump(direct);
      return source.next().then(onStep, onError).then(delivered);
    },
    async return() {
      await Promise.all([results.return?.(), source.return?.()]);
      return { value: undefined, done: true };
    },
    async throw(err?: unknown) {
      await Promise.all([results.return?.(), source.return?.()]);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** The graphql-ws (ws) socket and operation id for `next` messages written directly. */
export interface DirectSend {
  id: string;
  socket: WebSocket;
}

interface ResultLike {
  errors?: readonly { toJSON(): unknown }[];
  [k: string]: unknown;
}

const payloads = new WeakMap<object, string>();

/** bytes queued on a connection past which a subscription waits for its write to finish */
const SOCKET_HIGH_WATER = 256 * 1024;

/** The `payload` of graphql-ws's `next` message for a result, in the same shape and key order. */
function payloadJson(result: ResultLike): string {
  let json = payloads.get(result);
  if (json === undefined) {
    const { errors, ...rest } = result;
    json = JSON.stringify({ ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) });
    payloads.set(result, json);
  }
  return json;
}

function isAsyncIterable<T>(x: unknown): x is AsyncIterable<T> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
