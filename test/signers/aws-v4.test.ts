import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError } from '../../src/providers/errors.ts';
import {
  EMPTY_SHA256,
  authorizationHeader,
  awsV4Signer,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  formatAmzDate,
  hashPayload,
  normalizePath,
  presignAwsV4,
  signature,
  signingKey,
  stringToSign,
  uriEncode,
  type AwsCredentials,
} from '../../src/providers/http/signers/aws-v4.ts';
import type { HttpRequest } from '../../src/providers/http/types.ts';
import { verifyAwsV4, verifyNodeRequest } from '../helpers/aws-verify.ts';

// --- The AWS SigV4 test suite (fixtures/aws-sig-v4-test-suite) ---

const SUITE_DIR = new URL('../../fixtures/aws-sig-v4-test-suite/', import.meta.url);
const SUITE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
  amzDate: '20150830T123600Z',
  now: new Date('2015-08-30T12:36:00Z'),
};
const SUITE_SCOPE = '20150830/us-east-1/service/aws4_request';
const STS_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
/** request lines that are not valid on the wire (raw space, raw UTF-8): stage tests only */
const RAW_TARGET_CASES = new Set(['get-space', 'get-utf8']);

interface ParsedRequest {
  method: string;
  target: string;
  path: string;
  query: string;
  /** lower-case name -> values in order */
  headers: Record<string, string[]>;
  body: string;
}

/** Parses a `.req`/`.sreq` file: request line, headers (continuation lines fold in as more values), blank line, body. */
function parseRequest(text: string): ParsedRequest {
  const blank = text.indexOf('\n\n');
  const head = blank === -1 ? text : text.slice(0, blank);
  const body = blank === -1 ? '' : text.slice(blank + 2);
  const [requestLine, ...lines] = head.split('\n');
  const line = requestLine as string;
  const method = line.slice(0, line.indexOf(' '));
  const target = line.slice(line.indexOf(' ') + 1, line.lastIndexOf(' '));
  const headers: Record<string, string[]> = {};
  let last: string | undefined;
  for (const l of lines) {
    if (/^\s/.test(l) && last) {
      (headers[last] as string[]).push(l.trim());
      continue;
    }
    const colon = l.indexOf(':');
    last = l.slice(0, colon).toLowerCase();
    (headers[last] ??= []).push(l.slice(colon + 1).trim());
  }
  const q = target.indexOf('?');
  return {
    method,
    target,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    headers,
    body,
  };
}

const caseNames = readdirSync(SUITE_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function fixture(name: string, ext: string): string {
  return readFileSync(new URL(`${name}/${name}.${ext}`, SUITE_DIR), 'utf8');
}

describe('signers: aws-v4 test suite', () => {
  it('has the suite on disk', () => {
    expect(caseNames.length).toBeGreaterThanOrEqual(30);
    expect(caseNames).toContain('get-vanilla');
    expect(caseNames).toContain('post-sts-header-before');
  });

  describe.each(caseNames)('%s', (name) => {
    const req = parseRequest(fixture(name, 'req'));
    const creq = fixture(name, 'creq');
    const sts = fixture(name, 'sts');
    const authz = fixture(name, 'authz');

    it('canonical request', () => {
      expect(
        canonicalRequest({
          method: req.method,
          path: req.path,
          query: req.query,
          headers: req.headers,
          payloadHash: hashPayload(req.body),
          service: SUITE.service,
        }),
      ).toBe(creq);
    });

    it('string to sign', () => {
      expect(stringToSign(creq, SUITE.amzDate, credentialScope('20150830', SUITE.region, SUITE.service))).toBe(sts);
    });

    it('authorization', () => {
      const key = signingKey(SUITE.secretAccessKey, '20150830', SUITE.region, SUITE.service);
      const signedHeaders = creq.split('\n').at(-2) as string;
      expect(authorizationHeader(SUITE.accessKeyId, SUITE_SCOPE, signedHeaders, signature(key, sts))).toBe(authz);
    });

    it('signed request verifies', () => {
      const sreq = parseRequest(fixture(name, 'sreq'));
      const result = verifyAwsV4(
        {
          method: sreq.method,
          path: sreq.path,
          query: new URLSearchParams(sreq.query),
          headers: sreq.headers,
          bodySha256Hex: hashPayload(sreq.body),
        },
        (id) => (id === SUITE.accessKeyId ? SUITE.secretAccessKey : undefined),
        SUITE.now,
      );
      expect(result).toEqual({ ok: true, accessKeyId: SUITE.accessKeyId });
    });

    // why: a raw space or raw UTF-8 in the request line cannot go through URL; covered by the stages above
    if (!RAW_TARGET_CASES.has(name)) it('awsV4Signer produces the same Authorization', async () => {
      const token = name.startsWith('post-sts-') ? STS_TOKEN : undefined;
      const signer = awsV4Signer({
        service: SUITE.service,
        region: SUITE.region,
        credentials: () => ({ accessKeyId: SUITE.accessKeyId, secretAccessKey: SUITE.secretAccessKey, sessionToken: token }),
        signSessionToken: name !== 'post-sts-header-after',
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = v.join(',');
      const signed = await signer.sign(
        { method: req.method, url: new URL(`https://example.amazonaws.com${req.target}`), headers, body: req.body },
        { now: SUITE.now },
      );
      expect(signed.headers['authorization']).toBe(authz);
      expect(signed.headers['x-amz-date']).toBe(SUITE.amzDate);
      expect(signed.headers['x-amz-security-token']).toBe(token);
      expect(signed.headers['x-amz-content-sha256']).toBeUndefined();
    });
  });

  it('the raw-target cases double-encode once their path is on the wire', () => {
    // get-space's "/example space/" goes out as "/example%20space/"; non-S3 services sign that encoded again
    expect(canonicalUri(new URL('https://h/example space/').pathname, 'service')).toBe('/example%2520space/');
    expect(canonicalUri(new URL('https://h/\u1234').pathname, 'service')).toBe('/%25E1%2588%25B4');
    expect(canonicalUri(new URL('https://h/\u1234').pathname, 's3')).toBe('/%E1%88%B4');
  });
});

// --- S3 documented examples ---
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html

const S3 = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  now: new Date('2013-05-24T00:00:00Z'),
  base: 'https://examplebucket.s3.amazonaws.com',
};
const s3Signer = awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => S3.credentials });
const s3Key = () => signingKey(S3.credentials.secretAccessKey, '20130524', 'us-east-1', 's3');
const S3_SCOPE = '20130524/us-east-1/s3/aws4_request';

function s3Creq(req: HttpRequest): string {
  const signed = /SignedHeaders=([^,]+)/.exec(req.headers['authorization'] ?? '')?.[1]?.split(';') ?? [];
  return canonicalRequest({
    method: req.method,
    path: req.url.pathname,
    query: req.url.searchParams,
    headers: req.headers,
    signedHeaders: signed,
    payloadHash: req.headers['x-amz-content-sha256'] ?? '',
    service: 's3',
  });
}

describe('signers: aws-v4 S3 examples', () => {
  it('GET Object with Range', async () => {
    const signed = await s3Signer.sign(
      { method: 'GET', url: new URL(`${S3.base}/test.txt`), headers: { range: 'bytes=0-9' } },
      { now: S3.now },
    );
    expect(s3Creq(signed)).toBe(
      [
        'GET',
        '/test.txt',
        '',
        'host:examplebucket.s3.amazonaws.com',
        'range:bytes=0-9',
        `x-amz-content-sha256:${EMPTY_SHA256}`,
        'x-amz-date:20130524T000000Z',
        '',
        'host;range;x-amz-content-sha256;x-amz-date',
        EMPTY_SHA256,
      ].join('\n'),
    );
    expect(stringToSign(s3Creq(signed), '20130524T000000Z', S3_SCOPE).split('\n')[3]).toBe(
      '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    expect(signed.headers['authorization']).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('PUT Object (a name that needs encoding, hashed body)', async () => {
    const signed = await s3Signer.sign(
      {
        method: 'PUT',
        url: new URL(`${S3.base}/test$file.text`),
        headers: { date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
        body: 'Welcome to Amazon S3.',
      },
      { now: S3.now },
    );
    expect(signed.headers['x-amz-content-sha256']).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    expect(s3Creq(signed).split('\n').slice(0, 2)).toEqual(['PUT', '/test%24file.text']);
    expect(signed.headers['authorization']).toContain(
      'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, ' +
        'Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });

  it('GET Bucket lifecycle (a parameter without a value)', async () => {
    const signed = await s3Signer.sign({ method: 'GET', url: new URL(`${S3.base}/?lifecycle`), headers: {} }, { now: S3.now });
    expect(s3Creq(signed).split('\n').slice(0, 3)).toEqual(['GET', '/', 'lifecycle=']);
    expect(signed.headers['authorization']).toContain(
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    );
  });

  it('GET Bucket (list objects, parameters out of order)', async () => {
    const signed = await s3Signer.sign(
      { method: 'GET', url: new URL(`${S3.base}/?prefix=J&max-keys=2`), headers: {} },
      { now: S3.now },
    );
    expect(s3Creq(signed).split('\n')[2]).toBe('max-keys=2&prefix=J');
    expect(signed.headers['authorization']).toContain(
      'Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    );
  });

  it('presigned GET (query parameters)', () => {
    const url = presignAwsV4(
      { method: 'GET', url: new URL(`${S3.base}/test.txt`) },
      { service: 's3', region: 'us-east-1', credentials: S3.credentials, now: S3.now, expiresIn: 86400 },
    );
    expect(url.href).toBe(
      `${S3.base}/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
        '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
    // the canonical request of the documented example, rebuilt from the URL minus its signature
    const query = new URLSearchParams(url.search);
    query.delete('X-Amz-Signature');
    const creq = canonicalRequest({
      method: 'GET',
      path: url.pathname,
      query,
      headers: { host: url.host },
      payloadHash: 'UNSIGNED-PAYLOAD',
      service: 's3',
    });
    expect(stringToSign(creq, '20130524T000000Z', S3_SCOPE).split('\n')[3]).toBe(
      '3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04',
    );
    expect(signature(s3Key(), stringToSign(creq, '20130524T000000Z', S3_SCOPE))).toBe(url.searchParams.get('X-Amz-Signature'));
  });

  it('presigned URLs carry the session token inside the signed query', () => {
    const base = { service: 's3', region: 'us-east-1', now: S3.now, expiresIn: 60 };
    const plain = presignAwsV4({ method: 'PUT', url: new URL(`${S3.base}/a b.txt`) }, { ...base, credentials: S3.credentials });
    const temp = presignAwsV4(
      { method: 'PUT', url: new URL(`${S3.base}/a b.txt`) },
      { ...base, credentials: { ...S3.credentials, sessionToken: 'tok/en+=' } },
    );
    expect(temp.searchParams.get('X-Amz-Security-Token')).toBe('tok/en+=');
    expect(temp.search).toContain('X-Amz-Security-Token=tok%2Fen%2B%3D&');
    expect(temp.search.endsWith(`&X-Amz-Signature=${temp.searchParams.get('X-Amz-Signature')}`)).toBe(true);
    expect(temp.searchParams.get('X-Amz-Signature')).not.toBe(plain.searchParams.get('X-Amz-Signature'));
    expect(temp.pathname).toBe('/a%20b.txt');
  });

  it.each([0, -5, 1.5, 604_801, Number.NaN])('presign refuses expiresIn %s', (expiresIn) => {
    expect(() =>
      presignAwsV4(
        { method: 'GET', url: new URL(`${S3.base}/x`) },
        { service: 's3', region: 'us-east-1', credentials: S3.credentials, now: S3.now, expiresIn },
      ),
    ).toThrow(InvalidInputError);
  });

  it('presign accepts the 7-day maximum', () => {
    const url = presignAwsV4(
      { method: 'GET', url: new URL(`${S3.base}/x`) },
      { service: 's3', region: 'us-east-1', credentials: S3.credentials, now: S3.now, expiresIn: 604_800 },
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('604800');
  });
});

// --- Stages and signer behaviour ---

describe('signers: aws-v4 stages', () => {
  it('derives the documented signing key', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (IAM example)
    expect(signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('caches derived keys per secret, day, region and service', () => {
    const a = signingKey('secret-one', '20240101', 'eu-west-1', 'ec2');
    expect(signingKey('secret-one', '20240101', 'eu-west-1', 'ec2')).toBe(a);
    for (const other of [
      signingKey('secret-two', '20240101', 'eu-west-1', 'ec2'),
      signingKey('secret-one', '20240102', 'eu-west-1', 'ec2'),
      signingKey('secret-one', '20240101', 'eu-west-2', 'ec2'),
      signingKey('secret-one', '20240101', 'eu-west-1', 's3'),
    ]) {
      expect(other.equals(a)).toBe(false);
    }
  });

  it('formats dates', () => {
    expect(formatAmzDate(new Date('2015-08-30T12:36:00.123Z'))).toBe('20150830T123600Z');
  });

  it.each([
    ['/', '/'],
    ['//', '/'],
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/../a', '/a'],
    ['//a//b//', '/a/b/'],
    ['/a/..b/.c', '/a/..b/.c'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it('keeps S3 paths as they are apart from encoding', () => {
    expect(canonicalUri('/bucket/a/./b//c/../d', 's3')).toBe('/bucket/a/./b//c/../d');
    expect(canonicalUri('/bucket/a%2Fb/c+d/%E2%82%AC!*', 's3')).toBe('/bucket/a%2Fb/c%2Bd/%E2%82%AC%21%2A');
    expect(canonicalUri('/bucket/a/./b//c/../d', 'ec2')).toBe('/bucket/a/b/d');
    expect(canonicalUri('/a%2Fb', 'ec2')).toBe('/a%252Fb');
  });

  it('encodes per RFC 3986', () => {
    expect(uriEncode("A-Z_a.z~0 9!'()*/+=&%")).toBe('A-Z_a.z~0%209%21%27%28%29%2A%2F%2B%3D%26%25');
    expect(uriEncode('\u20ac')).toBe('%E2%82%AC');
  });

  it('sorts the query by encoded name, then encoded value', () => {
    expect(canonicalQueryString('b=2&a=2&a=1&A=3&a%20b=x y&c')).toBe('A=3&a=1&a=2&a%20b=x%20y&b=2&c=');
    expect(canonicalQueryString('')).toBe('');
    // why: '+' in a query is a space on the wire (form encoding), as AWS reads it
    expect(canonicalQueryString('q=a+b')).toBe('q=a%20b');
  });

  it('refuses to sign a header that is not there', () => {
    expect(() =>
      canonicalRequest({ method: 'GET', path: '/', query: '', headers: { host: 'h' }, signedHeaders: ['host', 'x-missing'], payloadHash: EMPTY_SHA256, service: 'ec2' }),
    ).toThrow(InvalidInputError);
  });
});

describe('signers: aws-v4 signer', () => {
  const creds: AwsCredentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-value-0123456789' };
  const now = new Date('2024-03-01T10:00:00Z');

  it('signs streamed bodies as UNSIGNED-PAYLOAD without reading them', async () => {
    let read = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        read = true;
        throw new Error('the signer must not read the stream');
      },
    };
    for (const service of ['s3', 'service']) {
      const signer = awsV4Signer({ service, region: 'eu-west-1', credentials: () => creds });
      const signed = await signer.sign({ method: 'PUT', url: new URL('https://h.example/b/k'), headers: {}, body }, { now });
      expect(signed.body).toBe(body);
      expect(signed.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(signed.headers['authorization']).toContain('x-amz-content-sha256');
    }
    expect(read).toBe(false);
  });

  it('hashes string and byte bodies; S3 sends the hash, other services do not', async () => {
    const bytes = new TextEncoder().encode('Action=DescribeInstances&Version=2016-11-15');
    const s3 = await awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => creds }).sign(
      { method: 'PUT', url: new URL('https://h.example/k'), headers: {}, body: bytes },
      { now },
    );
    expect(s3.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
    const ec2 = await awsV4Signer({ service: 'ec2', region: 'us-east-1', credentials: () => creds }).sign(
      { method: 'POST', url: new URL('https://ec2.example/'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bytes },
      { now },
    );
    expect(ec2.headers['x-amz-content-sha256']).toBeUndefined();
    expect(ec2.headers['authorization']).toContain('SignedHeaders=content-type;host;x-amz-date,');
  });

  it('honours unsignedPayload for in-memory bodies', async () => {
    const signed = await awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => creds, unsignedPayload: true }).sign(
      { method: 'PUT', url: new URL('https://h.example/k'), headers: {}, body: 'abc' },
      { now },
    );
    expect(signed.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('re-signs a signed request cleanly (retries)', async () => {
    let calls = 0;
    const signer = awsV4Signer({
      service: 'ec2',
      region: 'us-east-1',
      credentials: () => ({ ...creds, accessKeyId: `AKID${++calls}`, sessionToken: `token-${calls}` }),
    });
    const first = await signer.sign({ method: 'GET', url: new URL('https://ec2.example/?Action=X'), headers: { 'user-agent': 'skygraph' } }, { now });
    const later = new Date(now.getTime() + 60_000);
    const second = await signer.sign(first, { now: later });
    expect(calls).toBe(2);
    expect(second.headers['x-amz-date']).toBe(formatAmzDate(later));
    expect(second.headers['x-amz-security-token']).toBe('token-2');
    expect(second.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID2\//);
    expect(second.headers['authorization']).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
    expect(Object.keys(second.headers).sort()).toEqual(['authorization', 'host', 'user-agent', 'x-amz-date', 'x-amz-security-token']);
  });

  it('fails with AuthenticationError on missing credentials, naming no value', async () => {
    const signer = awsV4Signer({
      service: 'ec2',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'AKIDPARTIAL', secretAccessKey: '' }),
    });
    const err = await signer.sign({ method: 'GET', url: new URL('https://ec2.example/'), headers: {} }, { now }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(String((err as Error).message)).not.toContain('AKIDPARTIAL');
  });
});

// --- Round trip over real HTTP: sign, send with undici, verify on the server ---

describe('signers: aws-v4 round trip', () => {
  const SECRETS: Record<string, string> = { AKIDROUNDTRIP: 'round-trip-secret/with+chars=' };
  let server: Server;
  let base: string;
  let verifyAt: () => Date = () => new Date();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const result = verifyNodeRequest(req, Buffer.concat(chunks), (id) => SECRETS[id], verifyAt());
        res.writeHead(result.ok ? 200 : 403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...result, bytes: Buffer.concat(chunks).length }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  });

  async function send(signed: HttpRequest): Promise<{ status: number; body: { ok: boolean; reason?: string; bytes: number } }> {
    const res = await request(signed.url, {
      method: signed.method as Dispatcher.HttpMethod,
      headers: signed.headers,
      body: typeof signed.body === 'object' && signed.body !== null && Symbol.asyncIterator in signed.body ? Readable.from(signed.body) : (signed.body ?? null),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { ok: boolean; reason?: string; bytes: number } };
  }

  const good: AwsCredentials = { accessKeyId: 'AKIDROUNDTRIP', secretAccessKey: 'round-trip-secret/with+chars=' };

  it('accepts an EC2-style form POST', async () => {
    const signer = awsV4Signer({ service: 'ec2', region: 'eu-west-1', credentials: () => good });
    const signed = await signer.sign(
      {
        method: 'POST',
        url: new URL(`${base}/`),
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: 'Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName',
      },
      { now: new Date() },
    );
    expect(await send(signed)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('accepts a non-S3 GET whose path and query need encoding (double-encoded path)', async () => {
    const signer = awsV4Signer({ service: 'elasticloadbalancing', region: 'eu-west-1', credentials: () => good });
    const url = new URL(`${base}/a b/\u00e9t\u00e9/./x//y`);
    url.searchParams.set('Name', 'a b+c/d~e*f');
    url.searchParams.append('Name', '\u20ac');
    url.searchParams.set('Empty', '');
    const signed = await signer.sign({ method: 'GET', url, headers: { 'x-custom': '  spaced   value ' } }, { now: new Date() });
    expect(await send(signed)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('accepts an S3 PUT with a streamed body and a session token', async () => {
    const signer = awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => ({ ...good, sessionToken: 'session/token+value==' }) });
    async function* chunks() {
      for (let i = 0; i < 8; i++) yield new Uint8Array(4096).fill(i);
    }
    const signed = await signer.sign(
      { method: 'PUT', url: new URL(`${base}/bucket/dir/na me$+\u20ac(1).txt`), headers: { 'content-type': 'text/plain' }, body: chunks() },
      { now: new Date() },
    );
    expect(signed.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(await send(signed)).toEqual({ status: 200, body: { ok: true, accessKeyId: 'AKIDROUNDTRIP', bytes: 32768 } });
  });

  it('accepts an S3 PUT with a hashed body', async () => {
    const signer = awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => good });
    const signed = await signer.sign(
      { method: 'PUT', url: new URL(`${base}/bucket/k?partNumber=1&uploadId=abc`), headers: {}, body: 'hello world' },
      { now: new Date() },
    );
    expect(await send(signed)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('refuses a wrong secret', async () => {
    const signer = awsV4Signer({ service: 'ec2', region: 'eu-west-1', credentials: () => ({ ...good, secretAccessKey: 'not-the-secret' }) });
    const signed = await signer.sign({ method: 'POST', url: new URL(`${base}/`), headers: {}, body: 'Action=X' }, { now: new Date() });
    expect(await send(signed)).toMatchObject({ status: 403, body: { ok: false, reason: 'signature mismatch' } });
  });

  it('refuses an unknown access key', async () => {
    const signer = awsV4Signer({ service: 'ec2', region: 'eu-west-1', credentials: () => ({ ...good, accessKeyId: 'AKIDOTHER' }) });
    const signed = await signer.sign({ method: 'GET', url: new URL(`${base}/`), headers: {} }, { now: new Date() });
    expect(await send(signed)).toMatchObject({ status: 403, body: { ok: false, reason: 'unknown access key id' } });
  });

  it('refuses a body changed after signing', async () => {
    const signer = awsV4Signer({ service: 'ec2', region: 'eu-west-1', credentials: () => good });
    const signed = await signer.sign({ method: 'POST', url: new URL(`${base}/`), headers: {}, body: 'Action=DescribeInstances' }, { now: new Date() });
    expect(await send({ ...signed, body: 'Action=TerminateInstances' })).toMatchObject({ status: 403, body: { reason: 'signature mismatch' } });
  });

  it('refuses an S3 body that does not match x-amz-content-sha256', async () => {
    const signer = awsV4Signer({ service: 's3', region: 'us-east-1', credentials: () => good });
    const signed = await signer.sign({ method: 'PUT', url: new URL(`${base}/b/k`), headers: {}, body: 'one' }, { now: new Date() });
    expect(await send({ ...signed, body: 'two' })).toMatchObject({
      status: 403,
      body: { reason: 'x-amz-content-sha256 does not match the body' },
    });
  });

  it('refuses a changed query and a stale date', async () => {
    const signer = awsV4Signer({ service: 'ec2', region: 'eu-west-1', credentials: () => good });
    const signed = await signer.sign({ method: 'GET', url: new URL(`${base}/?Action=DescribeImages`), headers: {} }, { now: new Date() });
    expect(await send({ ...signed, url: new URL(`${base}/?Action=DeleteImage`) })).toMatchObject({ status: 403 });
    const stale = await signer.sign({ method: 'GET', url: new URL(`${base}/`), headers: {} }, { now: new Date(Date.now() - 3_600_000) });
    expect(await send(stale)).toMatchObject({ status: 403, body: { reason: 'request time too skewed' } });
    verifyAt = () => new Date(Date.now() - 3_600_000);
    try {
      expect(await send(stale)).toMatchObject({ status: 200 });
    } finally {
      verifyAt = () => new Date();
    }
  });
});

describe('helpers: verifyAwsV4', () => {
  const secret = 'verify-secret';
  const lookup = (id: string) => (id === 'AKIDV' ? secret : undefined);
  const now = new Date('2024-05-05T05:05:05Z');

  async function signedParts(service = 'ec2') {
    const signed = await awsV4Signer({ service, region: 'us-east-1', credentials: () => ({ accessKeyId: 'AKIDV', secretAccessKey: secret }) }).sign(
      { method: 'GET', url: new URL('https://svc.example/p?x=1'), headers: {} },
      { now },
    );
    return {
      method: 'GET',
      path: '/p',
      query: new URLSearchParams('x=1'),
      headers: signed.headers as Record<string, string>,
      bodySha256Hex: EMPTY_SHA256,
    };
  }

  it('accepts the signed request and checks scope when asked', async () => {
    const parts = await signedParts();
    expect(verifyAwsV4(parts, lookup, now)).toEqual({ ok: true, accessKeyId: 'AKIDV' });
    expect(verifyAwsV4(parts, lookup, now, { service: 'ec2', region: 'us-east-1' }).ok).toBe(true);
    expect(verifyAwsV4(parts, lookup, now, { region: 'eu-west-1' })).toMatchObject({ ok: false });
    expect(verifyAwsV4(parts, lookup, now, { service: 's3' })).toMatchObject({ ok: false });
  });

  it('names what is wrong', async () => {
    const parts = await signedParts();
    const without = (name: string) => {
      const headers = { ...parts.headers };
      delete headers[name];
      return { ...parts, headers };
    };
    expect(verifyAwsV4(without('authorization'), lookup)).toEqual({ ok: false, reason: 'missing Authorization header' });
    expect(verifyAwsV4(without('x-amz-date'), lookup)).toEqual({ ok: false, reason: 'missing or malformed X-Amz-Date' });
    expect(verifyAwsV4(without('host'), lookup)).toEqual({ ok: false, reason: 'signed header host is missing' });
    expect(verifyAwsV4({ ...parts, headers: { ...parts.headers, authorization: 'AWS x:y' } }, lookup)).toEqual({
      ok: false,
      reason: 'malformed Authorization header',
    });
    expect(verifyAwsV4({ ...parts, path: '/q' }, lookup)).toEqual({ ok: false, reason: 'signature mismatch' });
    const s3 = await signedParts('s3');
    const s3Headers = { ...s3.headers };
    delete s3Headers['x-amz-content-sha256'];
    expect(verifyAwsV4({ ...s3, headers: s3Headers }, lookup)).toEqual({ ok: false, reason: 'missing x-amz-content-sha256' });
  });

  it('never puts the secret or the expected signature in a reason', async () => {
    const parts = await signedParts();
    const reason = verifyAwsV4({ ...parts, path: '/other' }, lookup);
    expect(JSON.stringify(reason)).not.toContain(secret);
    expect(JSON.stringify(reason)).not.toMatch(/[0-9a-f]{64}/);
  });
});
