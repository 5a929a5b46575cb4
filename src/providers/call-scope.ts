/**
 * The scope of one call into an account: its abort signal, carried through the call's async work
 * by AsyncLocalStorage, so the connection layer and the drivers' waits see it without every driver
 * method taking a signal. callAccount (src/resolvers/fan-out.ts) and the live polls open one under
 * the account's deadline; when it fires, the upstream request is aborted (undici destroys it and
 * frees its socket), a retry backoff or a wait between polls ends, and a request still queued for
 * one of the account's connection slots gives up.
 *
 * Work that several callers share (a listing in the result cache, a DataLoader batch, a token
 * fetch) must not end when the caller that started it fails for its own reasons: it runs
 * `detached`, or with `runWithDeadline({ detached: true })` under the deadline alone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as delay } from 'node:timers/promises';

interface CallScope {
  signal: AbortSignal;
  /** performance.now() at which the deadline falls */
  deadline: number;
  /** the error of that deadline */
  onTimeout: () => Error;
  /** aborts the scope now if its deadline has passed (its timer may not have run yet) */
  expire(): void;
}

const storage = new AsyncLocalStorage<CallScope | undefined>();

/** The signal of the call the current code runs in, if any. */
export function callSignal(): AbortSignal | undefined {
  return storage.getStore()?.signal;
}

/** `signal` and the current call's signal, combined; either may be missing. */
export function withCallSignal(signal?: AbortSignal): AbortSignal | undefined {
  const ambient = callSignal();
  if (!ambient || ambient === signal) return signal ?? ambient;
  return signal ? AbortSignal.any([signal, ambient]) : ambient;
}

/**
 * Ends the current call now if its deadline has passed. Timers due at the same instant run one
 * after another; a request let through in between (a slot freed by the first) must not go out.
 */
export function checkDeadline(): void {
  storage.getStore()?.expire();
}

/** Runs `fn` outside any call's signal: for work whose result other callers may share. */
export function detached<T>(fn: () => T): T {
  return storage.run(undefined, fn);
}

export interface DeadlineOptions {
  timeoutMs: number;
  /** the error the call fails with when the deadline fires (also the abort reason) */
  onTimeout: () => Error;
  /**
   * true: not aborted with the enclosing call when that one fails (shared work); it still ends by
   * the enclosing call's deadline, when that comes first
   */
  detached?: boolean | undefined;
}

/**
 * Runs `fn` in a scope of its own that aborts at the deadline (or when the enclosing call aborts).
 * The answer is `fn`'s, or the abort reason as soon as the scope aborts, even if `fn` ignores the
 * signal. When `fn` fails, whatever it started and left running (the rest of a Promise.all) is
 * aborted too, so no request outlives the call that needed it.
 */
export async function runWithDeadline<T>(opts: DeadlineOptions, fn: () => Promise<T>): Promise<T> {
  const parent = storage.getStore();
  const outer = opts.detached ? undefined : parent?.signal;
  if (outer?.aborted) throw outer.reason;
  const now = performance.now();
  // why: work started inside a call ends by that call's deadline at the latest, even detached
  // (shared): whoever joined it with time left asks again (src/loaders/result-cache.ts)
  const inherited = parent !== undefined && parent.deadline <= now + opts.timeoutMs;
  const deadline = inherited ? parent.deadline : now + opts.timeoutMs;
  const onTimeout = inherited ? parent.onTimeout : opts.onTimeout;
  const controller = new AbortController();
  const expire = () => {
    if (!controller.signal.aborted && performance.now() >= deadline) controller.abort(onTimeout());
  };
  const timer = setTimeout(() => controller.abort(onTimeout()), Math.max(0, deadline - now));
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let ok = false;
  try {
    const value = await Promise.race([storage.run({ signal, deadline, onTimeout, expire }, fn), aborted]);
    ok = true;
    return value;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
    // why: on success nothing is left running, and a streamed body handed back must stay readable
    if (!ok && !controller.signal.aborted) controller.abort(new CallEndedError());
  }
}

/** A timer that ends early, with the abort reason, when `signal` (default: the current call's) aborts. */
export async function sleep(ms: number, signal: AbortSignal | undefined = callSignal()): Promise<void> {
  if (!signal) return delay(ms);
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal.aborted ? signal.reason : err;
  }
}

/** The abort reason of a call whose code failed while parts of it were still running. */
export class CallEndedError extends Error {
  constructor() {
    super('the call this work belonged to has ended');
    this.name = 'CallEndedError';
  }
}
