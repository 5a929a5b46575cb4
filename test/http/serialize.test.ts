import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/providers/errors.ts';
import { createConnection } from '../../src/providers/http/connection.ts';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../src/providers/http/retry.ts';
import { buildUrl, encodeForm, encodeQuery, encodeRfc3986, isIdempotentMethod, serializeRequest } from '../../src/providers/http/serialize.ts';
import { startReplayServer } from '../helpers/replay-server.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('http: serialize', () => {
  it('joins base path and path with exactly one slash', () => {
    const href = (base: string, path?: string) => buildUrl(new URL(base), path, undefined, 'Op').href;
    expect(href('http://h:1/v2.1/', '/servers/detail')).toBe('http://h:1/v2.1/servers/detail');
    expect(href('http://h:1/v2.1', 'servers')).toBe('http://h:1/v2.1/servers');
    expect(href('http://h:1', 'bucket/key%20name')).toBe('http://h:1/bucket/key%20name');
    expect(href('http://h:1/v1/AUTH_x/', undefined)).toBe('http://h:1/v1/AUTH_x');
    expect(href('http://h:1', '')).toBe('http://h:1/');
    expect(href('http://h:1/b', 'k?uploads')).toBe('http://h:1/b/k?uploads');
  });

  it('accepts same-origin absolute URLs (next links) and refuses other origins', () => {
    const base = new URL('http://127.0.0.1:8774/v2.1');
    const next = buildUrl(base, 'http://127.0.0.1:8774/v2.1/servers?marker=abc&limit=2', { extra: 'x' }, 'ListServers');
    expect(next.href).toBe('http://127.0.0.1:8774/v2.1/servers?marker=abc&limit=2&extra=x');
    expect(() => buildUrl(base, 'http://evil.example:8774/v2.1/servers?marker=abc', undefined, 'ListServers')).toThrow(InvalidInputError);
    expect(() => buildUrl(base, 'https://127.0.0.1:8774/v2.1/servers', undefined, 'ListServers')).toThrow(/only talks to http:\/\/127\.0\.0\.1:8774/);
  });

  it('refuses dot segments instead of letting URL resolution move the request', () => {
    const base = new URL('http://h/bucket');
    expect(() => buildUrl(base, 'a/../other/k', undefined, 'GetObject')).toThrow(InvalidInputError);
    expect(() => buildUrl(base, '%2E%2E/k', undefined, 'GetObject')).toThrow(InvalidInputError);
    expect(buildUrl(base, 'a/%2E%2E.txt', undefined, 'GetObject').pathname).toBe('/bucket/a/%2E%2E.txt');
  });

  it('encodes queries and forms with RFC 3986', () => {
    expect(encodeRfc3986("a b*'()!~-._/+")).toBe('a%20b%2A%27%28%29%21~-._%2F%2B');
    expect(encodeQuery({ Filter: ['x y', 'z'], n: 5, t: true, f: false, skip: undefined, nil: null, empty: '' })).toBe('Filter=x%20y&Filter=z&n=5&t=true&f=false&empty=');
    expect(encodeForm({ Action: 'DescribeInstances', 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'web *' })).toBe(
      'Action=DescribeInstances&Filter.1.Name=tag%3AName&Filter.1.Value.1=web%20%2A',
    );
  });

  it('builds bodies, content types and lower-case headers', () => {
    const base = new URL('http://h/');
    const json = serializeRequest(base, { operation: 'Op', method: 'post', json: { name: 'é' }, headers: { 'X-Thing': '1' } }, 'ua/1');
    expect(json).toMatchObject({ method: 'POST', body: '{"name":"é"}' });
    expect(json.headers).toEqual({ 'user-agent': 'ua/1', accept: 'application/json', 'x-thing': '1', 'content-type': 'application/json', 'content-length': '13' });
    const form = serializeRequest(base, { operation: 'Op', method: 'POST', form: { Action: 'X' }, responseType: 'xml' }, 'ua');
    expect(form.headers).toEqual({ 'user-agent': 'ua', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': '8' });
    const bytes = serializeRequest(base, { operation: 'Op', method: 'PUT', body: new Uint8Array(5), headers: { 'Content-Type': 'application/octet-stream' } }, 'ua');
    expect(bytes.headers['content-length']).toBe('5');
    expect(() => serializeRequest(base, { operation: 'Op', json: {}, form: {} }, 'ua')).toThrow(InvalidInputError);
  });

  it('refuses a base URL that is not absolute http(s), without echoing it', () => {
    for (const baseUrl of ['ftp://u:pw-in-url@h/', 'not a url pw-in-url']) {
      const err = (() => {
        try {
          createConnection({ provider: 'p', baseUrl });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as Error).message).toBe('[p] baseUrl must be an absolute http(s) URL');
    }
  });

  it('idempotency defaults by method', () => {
    expect(['GET', 'head', 'PUT', 'DELETE', 'OPTIONS'].map(isIdempotentMethod)).toEqual([true, true, true, true, true]);
    expect(['POST', 'PATCH'].map(isIdempotentMethod)).toEqual([false, false]);
  });

  it('sends what it serialised (checked by the replay server)', async () => {
    const server = await startReplayServer([
      {
        method: 'POST',
        path: '/',
        match: (r) => r.form.get('Action') === 'RunInstances',
        check: (r) => {
          if (r.form.get('TagSpecification.1.Tag.1.Value') !== 'a b&c') throw new Error(`tag value ${r.form.get('TagSpecification.1.Tag.1.Value')}`);
          if (!r.body.toString().includes('a%20b%26c')) throw new Error('not RFC 3986 encoded');
          if (r.headers['user-agent'] !== 'skygraph-test') throw new Error('user agent');
        },
        body: '<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet></RunInstancesResponse>',
      },
    ]);
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'ec2', baseUrl: `${server.url}/`, userAgent: 'skygraph-test' });
    cleanup.push(() => conn.close());
    const res = await conn.request<{ RunInstancesResponse: { instancesSet: { item: { instanceId: string }[] } } }>({
      operation: 'RunInstances',
      method: 'POST',
      form: { Action: 'RunInstances', 'TagSpecification.1.Tag.1.Value': 'a b&c' },
      responseType: 'xml',
      xmlArrays: ['item'],
    });
    expect(res.body.RunInstancesResponse.instancesSet.item[0]?.instanceId).toBe('i-1');
    expect(server.failures).toEqual([]);
    expect(conn.baseUrl.href).toBe(`${server.url}/`);
  });
});

describe('http: retry policy', () => {
  const opts = { retries: 3, baseDelayMs: 200, maxDelayMs: 5000 };
  it('full jitter stays under the exponential cap', () => {
    expect(backoffDelay(0, opts, () => 0.999)).toBe(199);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(800);
    expect(backoffDelay(10, opts, () => 0.999)).toBe(4995);
    expect(backoffDelay(2, opts, () => 0)).toBe(0);
  });
  it('Retry-After: seconds, HTTP-date, garbage; capped', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(retryDelay(0, opts, 120_000)).toBe(5000);
    expect(retryDelay(0, opts, 0)).toBe(0);
  });
});
