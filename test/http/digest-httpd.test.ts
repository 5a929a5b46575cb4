/**
 * The Digest signer through the connection layer against a real Apache httpd (mod_auth_digest,
 * MD5, qop=auth, AuthDigestNcCheck On so every nonce count is checked to be the next one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/providers/errors.ts';
import { createConnection, type Connection } from '../../src/providers/http/connection.ts';
import { digestSigner, type DigestSigner } from '../../src/providers/http/signers/digest.ts';
import { digestParam, startDigestHttpd, type DigestHttpd } from '../helpers/httpd-digest.ts';
import { instantSleep } from './support.ts';

const USER = 'skygraph';
const PASSWORD = 'Circle of Life 4 digest';
const FRESH_LOG_DELAY_MS = 50;

describe('http: digest against Apache httpd', () => {
  let httpd: DigestHttpd;
  const conns: Connection[] = [];

  beforeAll(async () => {
    httpd = await startDigestHttpd(USER, PASSWORD);
  }, 30_000);
  afterAll(async () => {
    for (const c of conns) await c.close();
    await httpd?.stop();
  });

  const connect = (password = PASSWORD): { conn: Connection; signer: DigestSigner; calls: string[] } => {
    const signer = digestSigner(() => ({ username: USER, password }), { provider: 'digest-test' });
    const calls: string[] = [];
    const conn = createConnection({ provider: 'digest-test', baseUrl: httpd.url, signer, sleep: instantSleep().sleep, recordCall: (op) => calls.push(op) });
    conns.push(conn);
    return { conn, signer, calls };
  };
  /** the log lines for `path` written since `from` lines */
  const logSince = async (from: number, path: string) => {
    // why: httpd writes the access log line just after the response has gone out
    await new Promise((r) => setTimeout(r, FRESH_LOG_DELAY_MS));
    return (await httpd.log()).slice(from).filter((l) => l.path === path);
  };

  it('the right password gets 200 after one challenge, and later requests reuse it with nc 2, 3, 4', async () => {
    const before = (await httpd.log()).length;
    const { conn, calls } = connect();
    const first = await conn.request<string>({ operation: 'GetHello', path: 'hello.txt', responseType: 'text' });
    expect(first.status).toBe(200);
    expect(first.body).toBe('hello through digest\n');
    for (let i = 0; i < 3; i++) expect((await conn.request({ operation: 'GetHello', path: 'hello.txt', responseType: 'text' })).status).toBe(200);
    expect(calls).toHaveLength(5);

    const lines = await logSince(before, '/hello.txt');
    expect(lines.map((l) => l.status)).toEqual([401, 200, 200, 200, 200]);
    expect(lines[0]!.authorization).toBeUndefined();
    expect(digestParam(lines[0]!.challenge, 'qop')).toBe('auth');
    const answered = lines.slice(1).map((l) => l.authorization);
    expect(answered.map((a) => digestParam(a, 'nc'))).toEqual(['00000001', '00000002', '00000003', '00000004']);
    expect(new Set(answered.map((a) => digestParam(a, 'nonce'))).size).toBe(1);
    expect(new Set(answered.map((a) => digestParam(a, 'cnonce'))).size).toBe(1);
    expect(answered.every((a) => digestParam(a, 'username') === USER && digestParam(a, 'uri') === '/hello.txt' && digestParam(a, 'algorithm') === 'MD5')).toBe(true);
  });

  it('httpd itself refuses a nonce count sent twice (so the counts above were checked)', async () => {
    const before = (await httpd.log()).length;
    const { conn, signer } = connect();
    await conn.request({ operation: 'GetHello', path: 'hello.txt', responseType: 'none' });
    const replayed = await fetch(`${httpd.url}/hello.txt`, { headers: { authorization: (await httpd.log()).at(-1)!.authorization! } });
    expect(replayed.status).toBe(401);
    await replayed.body?.cancel();
    expect(signer.current?.nc).toBe(1);
    expect((await logSince(before, '/hello.txt')).map((l) => l.status)).toEqual([401, 200, 401]);
  });

  it('a wrong password is an AuthenticationError after exactly one answered challenge, and the error holds no secret', async () => {
    const before = (await httpd.log()).length;
    const { conn, calls } = connect('not the password');
    const err = await conn.request({ operation: 'GetHello', path: 'hello.txt' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, provider: 'digest-test' });
    expect((err as Error).message).toMatch(/^\[digest-test\] GetHello 401: /);
    expect(`${(err as Error).message} ${(err as Error).stack}`).not.toContain('not the password');
    expect(calls).toHaveLength(2);
    const lines = await logSince(before, '/hello.txt');
    expect(lines.map((l) => [l.status, l.authorization === undefined])).toEqual([
      [401, true],
      [401, false],
    ]);
    expect(digestParam(lines[1]!.challenge, 'stale')).toBeUndefined();
  });

  it('a stale nonce (AuthDigestNonceLifetime 1) is answered again at once, with the new nonce at nc=1', { timeout: 15_000 }, async () => {
    const before = (await httpd.log()).length;
    const { conn, calls } = connect();
    expect((await conn.request({ operation: 'GetShort', path: 'short/hello.txt', responseType: 'none' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_200));
    expect((await conn.request({ operation: 'GetShort', path: 'short/hello.txt', responseType: 'none' })).status).toBe(200);
    expect(calls).toHaveLength(4);
    const lines = await logSince(before, '/short/hello.txt');
    expect(lines.map((l) => l.status)).toEqual([401, 200, 401, 200]);
    const [, firstOk, stale, secondOk] = lines;
    expect(digestParam(stale!.authorization, 'nonce')).toBe(digestParam(firstOk!.authorization, 'nonce'));
    expect(digestParam(stale!.authorization, 'nc')).toBe('00000002');
    expect(digestParam(stale!.challenge, 'stale')).toBe('true');
    expect(digestParam(secondOk!.authorization, 'nonce')).not.toBe(digestParam(firstOk!.authorization, 'nonce'));
    expect(digestParam(secondOk!.authorization, 'nc')).toBe('00000001');
  });

  it('a POST body is sent again after the challenge; a streamed one is not, and the next stream goes preemptively', async () => {
    const { conn } = connect();
    const posted = await conn.request<string>({ operation: 'Echo', method: 'POST', path: 'echo', body: 'ping', headers: { 'content-type': 'text/plain' }, responseType: 'text' });
    expect(posted.body).toBe('ping');

    const fresh = connect();
    const stream = (text: string) =>
      (async function* () {
        yield new TextEncoder().encode(text);
      })();
    const refused = await fresh.conn.request({ operation: 'EchoStream', method: 'POST', path: 'echo', body: stream('one'), responseType: 'text' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(fresh.calls).toHaveLength(1);
    const streamed = await fresh.conn.request<string>({ operation: 'EchoStream', method: 'POST', path: 'echo', body: stream('two'), responseType: 'text' });
    expect(streamed.body).toBe('two');
    expect(fresh.calls).toHaveLength(2);
  });
});
