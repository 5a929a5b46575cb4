import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConflictError,
  ConnectionFailedError,
  MalformedResponseError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  SkygraphError,
  TimeoutError,
} from '../../src/providers/errors.ts';
import { createConnection, type ConnectionOptions, type RequestOptions } from '../../src/providers/http/connection.ts';
import { startReplayServer, type RecordedRoute } from '../helpers/replay-server.ts';
import { closedPort, instantSleep, startRawServer } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function requestAgainst(route: RecordedRoute, opts: Partial<RequestOptions> = {}, conn: Partial<ConnectionOptions> = {}) {
  const server = await startReplayServer([route]);
  cleanup.push(() => server.close());
  const c = createConnection({ provider: 'prov', baseUrl: server.url, retry: { retries: 0 }, sleep: instantSleep().sleep, ...conn });
  cleanup.push(() => c.close());
  return c.request({ operation: 'Op', path: typeof route.path === 'string' ? route.path : '', method: route.method, ...opts }).catch((e: unknown) => e);
}

const xml = { 'content-type': 'application/xml' };
const json = { 'content-type': 'application/json' };

interface MappingCase {
  name: string;
  route: RecordedRoute & { status: number };
  type: abstract new (...args: never[]) => Error;
  code: string;
  requestId: string | undefined;
  retryable: boolean;
  message: string;
}

describe('http: error mapping', () => {
  it.each<MappingCase>([
    {
      name: 'OpenStack 404 JSON',
      route: { method: 'GET', path: '/servers/abc', status: 404, headers: { ...json, 'x-openstack-request-id': 'req-os-1' }, body: '{"itemNotFound": {"message": "Instance abc could not be found.", "code": 404}}' },
      type: NotFoundError, code: 'NOT_FOUND', requestId: 'req-os-1', retryable: false,
      message: '[prov] Op 404 itemNotFound: Instance abc could not be found.',
    },
    {
      name: 'EC2 403 XML with the request id only in the body',
      route: { method: 'POST', path: '/', status: 403, headers: xml, body: '<?xml version="1.0"?><Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>ec2-req-9</RequestID></Response>' },
      type: AuthenticationError, code: 'AUTHENTICATION_FAILED', requestId: 'ec2-req-9', retryable: false,
      message: '[prov] Op 403 AuthFailure: AWS was not able to validate the provided access credentials',
    },
    {
      name: 'S3 409 XML with x-amz-request-id',
      route: { method: 'DELETE', path: '/bucket', status: 409, headers: { ...xml, 'x-amz-request-id': 'S3REQ1' }, body: '<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to delete is not empty</Message><RequestId>S3REQ1</RequestId></Error>' },
      type: ConflictError, code: 'CONFLICT', requestId: 'S3REQ1', retryable: false,
      message: '[prov] Op 409 BucketNotEmpty: The bucket you tried to delete is not empty',
    },
    {
      name: '412 precondition',
      route: { method: 'PUT', path: '/o', status: 412, headers: { 'x-trans-id': 'tx1' }, body: '' },
      type: ConflictError, code: 'CONFLICT', requestId: 'tx1', retryable: false, message: '[prov] Op 412: Precondition Failed',
    },
    {
      name: '429 with Retry-After',
      route: { method: 'GET', path: '/x', status: 429, headers: { ...json, 'retry-after': '7' }, body: '{"id":"too_many_requests","message":"API Rate limit exceeded."}' },
      type: RateLimitedError, code: 'RATE_LIMITED', requestId: undefined, retryable: true,
      message: '[prov] Op 429 too_many_requests: API Rate limit exceeded.',
    },
    {
      name: '500 plain text',
      route: { method: 'GET', path: '/x', status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal\n  Server   Error\n' },
      type: ProviderError, code: 'PROVIDER_ERROR', requestId: undefined, retryable: true, message: '[prov] Op 500: Internal Server Error',
    },
    {
      name: '501 is not retryable',
      route: { method: 'GET', path: '/x', status: 501, headers: xml, body: '<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented.</Message></Error>' },
      type: ProviderError, code: 'PROVIDER_ERROR', requestId: undefined, retryable: false,
      message: '[prov] Op 501 NotImplemented: A header you provided implies functionality that is not implemented.',
    },
    {
      name: '400 AWS JSON __type',
      route: { method: 'POST', path: '/', status: 400, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'j-1' }, body: '{"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error"}' },
      type: ProviderError, code: 'PROVIDER_ERROR', requestId: 'j-1', retryable: false, message: '[prov] Op 400 ValidationException: 1 validation error',
    },
    {
      name: '401 HTML page',
      route: { method: 'GET', path: '/v1/AUTH_a', status: 401, headers: { 'content-type': 'text/html' }, body: '<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>' },
      type: AuthenticationError, code: 'AUTHENTICATION_FAILED', requestId: undefined, retryable: false,
      message: '[prov] Op 401: Unauthorized This server could not verify that you are authorized to access the document you requested.',
    },
  ])('$name', async ({ route, type, code, requestId, retryable, message }) => {
    const err = await requestAgainst(route);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ code, status: route.status, requestId, retryable, provider: 'prov' });
    expect((err as Error).message).toBe(message);
  });

  it('uses parseError when it returns an error, and the default mapping otherwise', async () => {
    const parseError: ConnectionOptions['parseError'] = (info) =>
      info.bodyText.includes('<Code>Throttling</Code>')
        ? new RateLimitedError(`${info.operation} throttled`, { provider: 'prov', status: info.status, requestId: info.requestId })
        : undefined;
    const throttled = await requestAgainst(
      { method: 'POST', path: '/', status: 400, headers: { 'x-amzn-requestid': 'r1' }, body: '<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>' },
      {},
      { parseError },
    );
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect(throttled).toMatchObject({ requestId: 'r1', status: 400 });
    const other = await requestAgainst({ method: 'POST', path: '/', status: 400, body: '<ErrorResponse><Error><Code>Bad</Code><Message>m</Message></Error></ErrorResponse>' }, {}, { parseError });
    expect(other).toBeInstanceOf(ProviderError);
    expect((other as Error).message).toBe('[prov] Op 400 Bad: m');
  });

  it('a RateLimitedError from parseError makes an idempotent request retry', async () => {
    const server = await startReplayServer([
      { method: 'POST', path: '/', status: 400, body: '<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>', times: 1 },
      { method: 'POST', path: '/', body: '{"done":true}' },
    ]);
    cleanup.push(() => server.close());
    const { sleeps, sleep } = instantSleep();
    const conn = createConnection({
      provider: 'prov', baseUrl: server.url, sleep,
      parseError: (i) => (i.bodyText.includes('Throttling') ? new RateLimitedError('throttled') : undefined),
    });
    cleanup.push(() => conn.close());
    const res = await conn.request({ operation: 'DescribeLoadBalancers', method: 'POST', form: { Action: 'DescribeLoadBalancers' }, idempotent: true });
    expect(res.body).toEqual({ done: true });
    expect(sleeps).toHaveLength(1);
  });

  it('maps a non-expected status even for streamed responses, and accepts listed statuses', async () => {
    const missing = await requestAgainst({ method: 'GET', path: '/b/k', status: 404, headers: xml, body: '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>' }, { responseType: 'stream' });
    expect(missing).toBeInstanceOf(NotFoundError);
    const listed = await requestAgainst({ method: 'HEAD', path: '/b/k', status: 404 }, { responseType: 'none', expect: [200, 404] });
    expect(listed).toMatchObject({ status: 404, body: undefined });
  });

  it('invalid JSON and XML become MalformedResponseError with a truncated body snippet', async () => {
    const long = `{"items": [${'"x",'.repeat(500)}`;
    const err = await requestAgainst({ method: 'GET', path: '/j', headers: { ...json, 'x-request-id': 'm1' }, body: long });
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err).toMatchObject({ code: 'MALFORMED_RESPONSE', status: 200, requestId: 'm1', retryable: false });
    const message = (err as Error).message;
    expect(message).toContain('[prov] Op 200: response is not valid JSON; body starts with "{"items": ["x","x",');
    expect(message).toContain(`(${long.length} chars)`);
    expect(message.length).toBeLessThan(320);
    expect(message).not.toContain('x-request-id');

    const bad = await requestAgainst({ method: 'GET', path: '/x', headers: xml, body: '<a><b>1</a>' }, { responseType: 'xml' });
    expect(bad).toBeInstanceOf(MalformedResponseError);
    expect((bad as Error).message).toContain('not valid XML; body starts with "<a><b>1</a>"');
  });

  it('a server that never answers gives TimeoutError', async () => {
    const server = await startRawServer(() => {});
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'prov', baseUrl: server.url, timeoutMs: 150, retry: { retries: 0 } });
    cleanup.push(() => conn.close());
    const err = await conn.request({ operation: 'Hang' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect((err as Error).message).toBe('[prov] Hang: timed out waiting for the response (UND_ERR_HEADERS_TIMEOUT)');
  });

  it('a body that stalls gives TimeoutError, and is retried for idempotent requests', async () => {
    let seen = 0;
    const server = await startRawServer((_req, res) => {
      seen++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
    });
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'prov', baseUrl: server.url, timeoutMs: 150, retry: { retries: 1 }, sleep: instantSleep().sleep });
    cleanup.push(() => conn.close());
    const err = await conn.request({ operation: 'Stall' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('[prov] Stall: timed out reading the body (UND_ERR_BODY_TIMEOUT)');
    expect(seen).toBe(2);
  });

  it('connection refused gives ConnectionFailedError', async () => {
    const port = await closedPort();
    const conn = createConnection({ provider: 'prov', baseUrl: `http://127.0.0.1:${port}`, retry: { retries: 0 } });
    cleanup.push(() => conn.close());
    const err = await conn.request({ operation: 'Op' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect((err as Error & { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  });
});

describe('http: secrets stay out of errors', () => {
  const SECRET_HEADER = 'hdr-SECRET-0a1b2c3d4e';
  const SECRET_QUERY = 'qry-SECRET-5f6a7b8c9d';
  const SECRET_BODY = 'body-SECRET-9e8d7c6b5a';
  const SECRET_SIG = 'sig0123456789abcdef0123456789abcdef';

  /** Every message, JSON rendering and stack along the cause chain. */
  function everything(err: unknown): string {
    const parts: string[] = [];
    let e: unknown = err;
    for (let i = 0; i < 10 && e; i++) {
      if (e instanceof Error) parts.push(e.message, String(e.stack), JSON.stringify(e), JSON.stringify({ ...e }));
      else parts.push(JSON.stringify(e));
      e = e instanceof Error ? e.cause : undefined;
    }
    return parts.join('\n');
  }

  const echo = (status: number) => async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    // a hostile or careless upstream that echoes the whole request back in its error
    const text = JSON.stringify({ message: `bad request ${req.url} ${JSON.stringify(req.headers)} ${Buffer.concat(chunks).toString()}` });
    res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? `{"broken": ${text}` : text);
  };

  it.each([
    ['a 400 error body that echoes the request', 400],
    ['a 500 error after retries', 500],
    ['a malformed 200 body that echoes the request', 200],
  ])('%s', async (_name, status) => {
    const server = await startRawServer((req, res) => void echo(status)(req, res));
    cleanup.push(() => server.close());
    const conn = createConnection({
      provider: 'prov',
      baseUrl: server.url,
      sleep: instantSleep().sleep,
      signer: {
        async sign(req) {
          return { ...req, headers: { ...req.headers, authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${SECRET_SIG}` } };
        },
      },
    });
    cleanup.push(() => conn.close());
    const err = await conn
      .request({
        operation: 'PutThing',
        method: 'PUT',
        path: 'things/1',
        headers: { 'x-auth-token': SECRET_HEADER },
        query: { 'X-Amz-Signature': SECRET_QUERY, marker: 'm' },
        json: { name: 'n', password: SECRET_BODY },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkygraphError);
    const all = everything(err);
    for (const secret of [SECRET_HEADER, SECRET_QUERY, SECRET_BODY, SECRET_SIG, 'AKIDEXAMPLE']) expect(all).not.toContain(secret);
    expect(all).toContain('[REDACTED]');
  });

  it('transport failures carry no URL query, headers or body', async () => {
    const server = await startRawServer((req) => req.socket.destroy());
    cleanup.push(() => server.close());
    const conn = createConnection({ provider: 'prov', baseUrl: server.url, retry: { retries: 1 }, sleep: instantSleep().sleep });
    cleanup.push(() => conn.close());
    const err = await conn
      .request({ operation: 'GetThing', path: 'x', headers: { 'x-auth-token': SECRET_HEADER }, query: { sig: SECRET_QUERY } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailedError);
    const all = everything(err);
    for (const secret of [SECRET_HEADER, SECRET_QUERY, '/x?']) expect(all).not.toContain(secret);
  });
});
