import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectionFailedError, ProviderError, RateLimitedError, TimeoutError, UnavailableError } from '../../src/providers/errors.ts';
import { createConnection, type Connection, type ConnectionOptions } from '../../src/providers/http/connection.ts';
import { MAX_STALE_RETRIES } from '../../src/providers/http/execute.ts';
import type { HttpRequest, Signer, UnauthorizedResponse, UnauthorizedVerdict } from '../../src/providers/http/types.ts';
import { startReplayServer, type RecordedRoute, type ReplayServer } from '../helpers/replay-server.ts';
import { closedPort, instantSleep, readAll, startRawServer, type RawServer } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function replay(...routes: RecordedRoute[]): Promise<ReplayServer> {
  const s = await startReplayServer(routes);
  cleanup.push(() => s.close());
  return s;
}
async function raw(handler: Parameters<typeof startRawServer>[0]): Promise<RawServer> {
  const s = await startRawServer(handler);
  cleanup.push(() => s.close());
  return s;
}
function connect(baseUrl: string, extra: Partial<ConnectionOptions> = {}) {
  const { sleeps, sleep } = instantSleep();
  const calls: string[] = [];
  const conn: Connection = createConnection({ provider: 'test', baseUrl, sleep, recordCall: (op) => calls.push(op), ...extra });
  cleanup.push(() => conn.close());
  return { conn, sleeps, calls };
}
const ok = { method: 'GET', path: '/v1/thing', status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };

describe('http: retries', () => {
  it('retries a GET on 503 and succeeds, counting every attempt', async () => {
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 503, body: 'busy', times: 2 }, ok);
    const { conn, sleeps, calls } = connect(`${server.url}/v1`);
    const res = await conn.request<{ ok: boolean }>({ operation: 'GetThing', path: 'thing' });
    expect(res.body).toEqual({ ok: true });
    expect(server.requests).toHaveLength(3);
    expect(calls).toEqual(['GetThing', 'GetThing', 'GetThing']);
    expect(sleeps).toHaveLength(2);
    // full jitter: each delay is in [0, base * 2^attempt)
    expect(sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(sleeps[0]).toBeLessThan(200);
    expect(sleeps[1]).toBeLessThan(400);
    expect(server.failures).toEqual([]);
  });

  it('gives up after `retries` and throws a retryable ProviderError', async () => {
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 502, body: 'bad gateway' });
    const { conn, sleeps, calls } = connect(`${server.url}/v1`, { retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 250 } });
    const err = await conn.request({ operation: 'GetThing', path: 'thing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 502, retryable: true, provider: 'test' });
    expect(calls).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => expect(ms).toBeLessThan(Math.min(250, 100 * 2 ** i)));
  });

  it('honours Retry-After in seconds', async () => {
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 503, headers: { 'retry-after': '2' }, times: 1 }, ok);
    const { conn, sleeps } = connect(`${server.url}/v1`);
    await conn.request({ operation: 'GetThing', path: 'thing' });
    expect(sleeps).toEqual([2000]);
  });

  it('honours Retry-After as an HTTP-date, relative to the injected clock', async () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const at = new Date(now.getTime() + 3000).toUTCString();
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 429, headers: { 'retry-after': at }, times: 1 }, ok);
    const { conn, sleeps } = connect(`${server.url}/v1`, { now: () => now });
    await conn.request({ operation: 'GetThing', path: 'thing' });
    expect(sleeps).toEqual([3000]);
  });

  it('caps Retry-After at maxDelayMs and reports it on the final RateLimitedError', async () => {
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 429, headers: { 'retry-after': '60' }, body: '{"message":"slow down"}' });
    const { conn, sleeps } = connect(`${server.url}/v1`, { retry: { retries: 1, maxDelayMs: 1500 } });
    const err = await conn.request({ operation: 'GetThing', path: 'thing' }).catch((e: unknown) => e);
    expect(sleeps).toEqual([1500]);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 60_000, code: 'RATE_LIMITED' });
    expect((err as Error).message).toBe('[test] GetThing 429: slow down');
  });

  it('skips a retry whose wait would end past the account\'s deadline, throwing the error at once', async () => {
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 429, headers: { 'retry-after': '2' }, body: '{"message":"slow down"}', times: 2 }, ok);
    const { conn, sleeps, calls } = connect(`${server.url}/v1`, { defaults: { deadlineMs: 1500 } });
    const err = await conn.request({ operation: 'GetThing', path: 'thing' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000 });
    expect(sleeps).toEqual([]);
    expect(calls).toHaveLength(1);
    // a wait that fits is still made
    const fits = connect(`${server.url}/v1`, { defaults: { deadlineMs: 2500 } });
    await fits.conn.request({ operation: 'GetThing', path: 'thing' });
    expect(fits.sleeps).toEqual([2000]);
  });

  it('does not retry a POST on 500', async () => {
    const server = await replay({ method: 'POST', path: '/v1/things', status: 500, body: '{"message":"boom"}' });
    const { conn, sleeps, calls } = connect(`${server.url}/v1`);
    const err = await conn.request({ operation: 'CreateThing', method: 'POST', path: 'things', json: { a: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 500, retryable: true });
    expect(server.requests).toHaveLength(1);
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a POST marked idempotent (AWS Query API reads)', async () => {
    const server = await replay(
      { method: 'POST', path: '/', status: 503, times: 1 },
      { method: 'POST', path: '/', match: (r) => r.form.get('Action') === 'DescribeThings', body: '{"ok":1}' },
    );
    const { conn } = connect(server.url);
    const res = await conn.request({ operation: 'DescribeThings', method: 'POST', form: { Action: 'DescribeThings' }, idempotent: true });
    expect(res.body).toEqual({ ok: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('retries a GET when the server resets the connection', async () => {
    let seen = 0;
    const server = await raw((req, res) => {
      if (seen++ === 0) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"second":true}');
    });
    const { conn, calls, sleeps } = connect(server.url);
    const res = await conn.request({ operation: 'GetThing', path: 'x' });
    expect(res.body).toEqual({ second: true });
    expect(seen).toBe(2);
    expect(calls).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('does not retry a POST when the connection is reset after sending', async () => {
    let seen = 0;
    const server = await raw((req) => {
      seen++;
      req.socket.destroy();
    });
    const { conn } = connect(server.url);
    const err = await conn.request({ operation: 'CreateThing', method: 'POST', path: 'x', json: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    expect(seen).toBe(1);
  });

  it('retries even a POST on ECONNREFUSED, since nothing was sent', async () => {
    const port = await closedPort();
    const { conn, calls, sleeps } = connect(`http://127.0.0.1:${port}`, { retry: { retries: 2 } });
    const err = await conn.request({ operation: 'CreateThing', method: 'POST', json: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    expect((err as Error).message).toBe('[test] CreateThing: connection failed (ECONNREFUSED)');
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry after the connection was closed by the caller', async () => {
    const server = await replay(ok);
    const { conn, calls, sleeps } = connect(`${server.url}/v1`);
    await conn.close();
    const err = await conn.request({ operation: 'GetThing', path: 'thing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    expect((err as Error).message).toBe('[test] GetThing: connection failed (UND_ERR_DESTROYED)');
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('never retries a streamed request body', async () => {
    let received = 0;
    const server = await raw((req, res) => {
      void readAll(req).then((b) => {
        received += b.length;
        res.writeHead(503).end('later');
      });
    });
    const { conn, calls, sleeps } = connect(server.url);
    async function* body() {
      for (let i = 0; i < 4; i++) yield new Uint8Array(1024).fill(i);
    }
    const err = await conn.request({ operation: 'PutObject', method: 'PUT', path: 'b/k', body: body() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ status: 503, retryable: true, code: 'UNAVAILABLE' });
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(received).toBe(4096);
  });

  it('re-runs the signer on every attempt with a fresh `now`', async () => {
    let tick = Date.parse('2025-06-01T12:00:00Z');
    const now = () => new Date((tick += 1000));
    const seenAt: Date[] = [];
    const signer: Signer = {
      async sign(req: HttpRequest, ctx) {
        seenAt.push(ctx.now);
        return { ...req, headers: { ...req.headers, 'x-signed-at': ctx.now.toISOString() } };
      },
    };
    const server = await replay({ method: 'GET', path: '/v1/thing', status: 503, times: 2 }, ok);
    const { conn } = connect(`${server.url}/v1`, { signer, now });
    await conn.request({ operation: 'GetThing', path: 'thing' });
    const stamps = server.requests.map((r) => r.headers['x-signed-at']);
    expect(seenAt).toHaveLength(3);
    expect(stamps).toEqual(seenAt.map((d) => d.toISOString()));
    expect(new Set(stamps).size).toBe(3);
  });

  function tokenSigner(initial: string, fresh: string) {
    const state = { token: initial, signs: 0, unauthorized: 0 };
    const signer: Signer = {
      async sign(req) {
        state.signs++;
        return { ...req, headers: { ...req.headers, 'x-auth-token': state.token } };
      },
      onUnauthorized() {
        state.unauthorized++;
        state.token = fresh;
      },
    };
    return { state, signer };
  }

  it('on 401 calls onUnauthorized, re-signs and retries once (also for POST)', async () => {
    const server = await replay({
      method: 'POST',
      path: '/servers',
      body: (req) => (req.headers['x-auth-token'] === 'fresh' ? { status: 202, body: '{"id":"s1"}' } : { status: 401, body: '{"error":{"message":"expired"}}' }),
    });
    const { state, signer } = tokenSigner('stale', 'fresh');
    const { conn, calls, sleeps } = connect(server.url, { signer });
    const res = await conn.request({ operation: 'CreateServer', method: 'POST', path: 'servers', json: { name: 'a' } });
    expect(res.status).toBe(202);
    expect(state).toEqual({ token: 'fresh', signs: 2, unauthorized: 1 });
    expect(server.requests.map((r) => r.headers['x-auth-token'])).toEqual(['stale', 'fresh']);
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('a second 401 is an AuthenticationError, with exactly one refresh', async () => {
    const server = await replay({ method: 'GET', path: '/servers', status: 401, body: '{"error":{"message":"nope","title":"Unauthorized"}}' });
    const { state, signer } = tokenSigner('a', 'b');
    const { conn } = connect(server.url, { signer });
    const err = await conn.request({ operation: 'ListServers', path: 'servers' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toBe('[test] ListServers 401 Unauthorized: nope');
    expect(state.unauthorized).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  /** A challenge-style signer: answers the last 401's `x-challenge` header and returns `verdict(challenge)`. */
  function challengeSigner(verdict: (challenge: string) => UnauthorizedVerdict | undefined) {
    const seen: UnauthorizedResponse[] = [];
    let answer = 'none';
    const signer: Signer = {
      async sign(req) {
        return { ...req, headers: { ...req.headers, 'x-answer': answer } };
      },
      onUnauthorized(res) {
        seen.push(res!);
        answer = res!.headers['x-challenge'] ?? 'none';
        return verdict(answer);
      },
    };
    return { seen, signer };
  }

  it('shows onUnauthorized the 401 and its headers (WWW-Authenticate), then retries once', async () => {
    const server = await replay({
      method: 'GET',
      path: '/v1/thing',
      body: (req) => (req.headers['x-answer'] === 'c1' ? { status: 200, body: '{"ok":true}' } : { status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n1"', 'x-challenge': 'c1' }, body: '' }),
    });
    const { seen, signer } = challengeSigner(() => undefined);
    const { conn } = connect(`${server.url}/v1`, { signer });
    expect((await conn.request({ operation: 'GetThing', path: 'thing' })).status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.status).toBe(401);
    expect(seen[0]!.headers['www-authenticate']).toBe('Digest realm="r", nonce="n1"');
  });

  it("a 'stale' verdict retries without spending the one credentials retry", async () => {
    let n = 0;
    const server = await replay({
      method: 'GET',
      path: '/v1/thing',
      // why: the first 401 is the stale one, the answer to the second is accepted
      body: (req) => (req.headers['x-answer'] === 'c2' ? { status: 200, body: '{}' } : { status: 401, headers: { 'x-challenge': `c${++n}` }, body: '' }),
    });
    const { seen, signer } = challengeSigner((c) => (c === 'c1' ? 'stale' : 'retry'));
    const { conn, calls } = connect(`${server.url}/v1`, { signer });
    expect((await conn.request({ operation: 'GetThing', path: 'thing' })).status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(calls).toHaveLength(3);
  });

  it(`'stale' retries stop after ${MAX_STALE_RETRIES}, then one credentials retry, then AuthenticationError`, async () => {
    let n = 0;
    const server = await replay({ method: 'GET', path: '/v1/thing', body: () => ({ status: 401, headers: { 'x-challenge': `c${++n}` }, body: '' }) });
    const { seen, signer } = challengeSigner(() => 'stale');
    const { conn } = connect(`${server.url}/v1`, { signer });
    const err = await conn.request({ operation: 'GetThing', path: 'thing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(seen).toHaveLength(MAX_STALE_RETRIES + 1);
    expect(server.requests).toHaveLength(MAX_STALE_RETRIES + 2);
  });

  it("a 'fail' verdict gives up at once", async () => {
    const server = await replay({ method: 'POST', path: '/v1/thing', status: 401, body: '' });
    const { seen, signer } = challengeSigner(() => 'fail');
    const { conn } = connect(`${server.url}/v1`, { signer });
    const err = await conn.request({ operation: 'PostThing', method: 'POST', path: 'thing', json: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(seen).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
  });

  it('stops at once when the caller aborts, mapping a deadline to TimeoutError', async () => {
    const server = await raw(() => {
      // never answers
    });
    const { conn } = connect(server.url);
    const err = await conn.request({ operation: 'Slow', signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe("[test] Slow: aborted by the caller's deadline");
  });
});
