/**
 * Call scopes and connection slots in the connection layer, against raw servers on 127.0.0.1:
 * a deadline aborts the request in flight (the server sees its socket close), a backoff, a slot
 * wait and a driver's wait loop; shared work survives the failure of the call that started it;
 * an account's slots bound the requests open at once, a streamed body holding its slot until it
 * closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CallEndedError, callSignal, checkDeadline, detached, runWithDeadline, sleep } from '../../src/providers/call-scope.ts';
import { TimeoutError } from '../../src/providers/errors.ts';
import { createConnection } from '../../src/providers/http/connection.ts';
import { createLimiter } from '../../src/providers/http/limiter.ts';
import { realSleep, waitFor } from '../../src/providers/rest/wait.ts';
import { startRawServer } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const deadline = (timeoutMs: number, detachedToo = false) => ({
  timeoutMs,
  onTimeout: () => new TimeoutError(`took longer than ${timeoutMs} ms`, { provider: 'test' }),
  detached: detachedToo,
});

/** A server that answers nothing until told, counting requests and the ones still open. */
async function holdingServer() {
  const held: ServerResponse[] = [];
  const state = { requests: 0, open: 0 };
  const server = await startRawServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    state.open++;
    res.on('close', () => state.open--);
    req.resume();
    held.push(res);
  });
  cleanup.push(() => server.close());
  return {
    server,
    state,
    answer(body = '{"ok":true}') {
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    },
  };
}

const until = async (ok: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return ok();
};

describe('call scope: deadlines reach the connection layer', () => {
  it('aborts the request in flight at the deadline: TimeoutError at once, the socket closed, no retry', async () => {
    const up = await holdingServer();
    const conn = createConnection({ provider: 'test', baseUrl: up.server.url, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 1 } });
    cleanup.push(() => conn.close());
    const started = Date.now();
    const err = await runWithDeadline(deadline(150), () => conn.request({ operation: 'List' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain('took longer than 150 ms');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await until(() => up.state.open === 0)).toBe(true);
    expect(up.state.requests).toBe(1);
  });

  it('a request with its own signal is aborted by either', async () => {
    const up = await holdingServer();
    const conn = createConnection({ provider: 'test', baseUrl: up.server.url });
    cleanup.push(() => conn.close());
    const own = new AbortController();
    const pending = runWithDeadline(deadline(60_000), () => conn.request({ operation: 'List', signal: own.signal }));
    await until(() => up.state.open === 1);
    own.abort();
    await expect(pending).rejects.toThrow(/aborted by the caller/);
    expect(await until(() => up.state.open === 0)).toBe(true);
  });

  it('ends a retry backoff at the deadline', async () => {
    let requests = 0;
    const server = await startRawServer((_req, res) => {
      requests++;
      res.writeHead(503, { 'retry-after': '30' }).end();
    });
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'test', baseUrl: server.url, retry: { retries: 3, baseDelayMs: 30_000, maxDelayMs: 30_000 } });
    cleanup.push(() => conn.close());
    const started = Date.now();
    await expect(runWithDeadline(deadline(200), () => conn.request({ operation: 'List' }))).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(requests).toBe(1);
  });

  it('stops a driver wait loop (rest waitFor with the real sleep) at the deadline', async () => {
    let polls = 0;
    const wait = () =>
      waitFor(
        async () => {
          polls++;
          return undefined;
        },
        'a state that never comes',
        { provider: 'test', intervalMs: 50, timeoutMs: 600_000, sleep: realSleep, now: () => new Date() },
      );
    await expect(runWithDeadline(deadline(200), wait)).rejects.toBeInstanceOf(TimeoutError);
    const seen = polls;
    await new Promise((r) => setTimeout(r, 200));
    // the loop ended with the deadline: no poll after it
    expect(polls).toBe(seen);
    expect(seen).toBeGreaterThan(1);
  });

  it('sleep ends early with the abort reason; nested scopes end by the outer deadline', async () => {
    const err = await runWithDeadline(deadline(100), () => sleep(60_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    const inner = await runWithDeadline(deadline(100), () => runWithDeadline(deadline(60_000), () => sleep(60_000))).catch((e: unknown) => e);
    expect(inner).toBeInstanceOf(TimeoutError);
    expect((inner as Error).message).toContain('100 ms');
  });

  it('keeps shared work running when the call that started it fails early, but ends it by that call deadline', async () => {
    let shared: Promise<string> | undefined;
    let sharedSignal: AbortSignal | undefined;
    const failing = runWithDeadline(deadline(300), async () => {
      shared = runWithDeadline(deadline(60_000, true), async () => {
        sharedSignal = callSignal();
        await sleep(100);
        return 'listed';
      });
      throw new Error('the caller failed on its own');
    });
    await expect(failing).rejects.toThrow('the caller failed on its own');
    expect(await shared).toBe('listed');
    expect(sharedSignal?.aborted).toBe(false);

    let late: Promise<void> | undefined;
    await runWithDeadline(deadline(100), async () => {
      late = runWithDeadline(deadline(60_000, true), () => sleep(60_000));
    });
    // why: a shared listing started by a call ends by that call's deadline; joiners with time left ask again
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
  });

  it('aborts what a failed call left running, and detached work stays outside any call', async () => {
    let leftOver: AbortSignal | undefined;
    await expect(
      runWithDeadline(deadline(60_000), async () => {
        leftOver = callSignal();
        throw new Error('failed');
      }),
    ).rejects.toThrow('failed');
    expect(leftOver?.aborted).toBe(true);
    expect(leftOver?.reason).toBeInstanceOf(CallEndedError);
    await runWithDeadline(deadline(60_000), async () => {
      expect(callSignal()).toBeDefined();
      expect(detached(() => callSignal())).toBeUndefined();
    });
  });

  it('checkDeadline ends a call whose deadline has passed before its timer ran', async () => {
    const err = await runWithDeadline(deadline(20), async () => {
      const until = performance.now() + 40;
      while (performance.now() < until) {
        // why: busy, so the deadline timer cannot run
      }
      checkDeadline();
      return callSignal()!.aborted;
    });
    expect(err).toBe(true);
  });
});

describe('connection slots: an account holds at most maxConcurrency requests upstream', () => {
  it('grants slots first come, first served, and a queued waiter leaves the line when aborted', async () => {
    const limiter = createLimiter(1);
    const release = await limiter.acquire();
    const order: string[] = [];
    const b = limiter.acquire().then((r) => (order.push('b'), r));
    const abort = new AbortController();
    const c = limiter.acquire(abort.signal);
    const d = limiter.acquire().then((r) => (order.push('d'), r));
    expect(limiter.stats()).toEqual({ inUse: 1, queued: 3 });
    abort.abort(new Error('gave up'));
    await expect(c).rejects.toThrow('gave up');
    expect(limiter.stats()).toEqual({ inUse: 1, queued: 2 });
    release();
    release();
    (await b)();
    (await d)();
    expect(order).toEqual(['b', 'd']);
    expect(limiter.stats()).toEqual({ inUse: 0, queued: 0 });
  });

  it('keeps requests over the limit waiting, ends the wait at the deadline, and lets a streamed body hold its slot until it closes', async () => {
    const up = await holdingServer();
    const slots = createLimiter(2);
    const conn = createConnection({ provider: 'test', baseUrl: up.server.url, defaults: { limiter: slots } });
    cleanup.push(() => conn.close());
    const pending = Array.from({ length: 5 }, () => conn.request({ operation: 'List' }));
    expect(await until(() => up.state.open === 2 && slots.stats().queued === 3)).toBe(true);
    // a queued request gives up at its deadline without ever being sent
    await expect(runWithDeadline(deadline(100), () => conn.request({ operation: 'List' }))).rejects.toBeInstanceOf(TimeoutError);
    expect(slots.stats()).toEqual({ inUse: 2, queued: 3 });
    // the upstream answers: the line drains two at a time
    while (up.state.requests < 5 || up.state.open > 0) {
      up.answer();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    expect(up.state.requests).toBe(5);
    expect(slots.stats()).toEqual({ inUse: 0, queued: 0 });

    const stream = conn.request<Readable>({ operation: 'Get', responseType: 'stream' });
    await until(() => up.state.open === 1);
    up.answer('x'.repeat(100));
    const res = await stream;
    expect(slots.stats().inUse).toBe(1);
    for await (const chunk of res.body) void chunk;
    expect(await until(() => slots.stats().inUse === 0)).toBe(true);
  });
});
