/**
 * The s3 driver against s3rver, a real S3 emulator started in-process on a free port: the storage
 * conformance suite (with a multipart-sized large object), then the upload strategy (single PUT
 * versus multipart, counted per upstream call), cleanup after failures, presigned URLs, ranges,
 * error mapping, addressing and option validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseS3Error } from '../../src/providers/aws/s3/errors.ts';
import { s3Provider, validateS3Account } from '../../src/providers/aws/s3/index.ts';
import {
  AuthenticationError,
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
} from '../../src/providers/errors.ts';
import type { AccountConfig, StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError, uniqueName } from '../conformance/assertions.ts';
import { readAll, testStorageDriver } from '../conformance/storage.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.ts';
import { calls, md5Of, patternBytes, type PatternOptions } from '../helpers/storage-bodies.ts';

const MiB = 1024 * 1024;
const SMALL_PARTS = { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB };

function s3Driver(endpoint: string | undefined, account: Partial<AccountConfig> = {}, region = 'us-east-1') {
  const ctx = testDriverContext(
    { driver: 's3', endpoint, regions: [region], credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, ...account },
    { region },
  );
  const instance = s3Provider.create(ctx);
  return { ctx, driver: instance.storage as StorageDriver, close: () => instance.close?.() ?? Promise.resolve() };
}

/** Deterministic bytes in 256 KiB chunks (see patternBytes). */
const bytes = (size: number, opts?: PatternOptions) => patternBytes(size, 256 * 1024, opts);

let conformanceServer: S3rverHandle | undefined;
testStorageDriver({
  name: 's3 (s3rver)',
  capabilities: ['getDownloadUrl', 'createUploadUrl'],
  largeObjectBytes: 40 * MiB,
  fetchPresignedUrls: true,
  async create() {
    conformanceServer = await startS3rver();
    const { driver, close } = s3Driver(conformanceServer.endpoint, { options: SMALL_PARTS });
    return {
      driver,
      cleanup: async () => {
        await close();
        await conformanceServer?.stop();
      },
    };
  },
});

describe('s3: driver details (s3rver)', () => {
  let server: S3rverHandle;
  let ctx: TestDriverContext;
  let driver: StorageDriver;
  let close: () => Promise<void>;
  const bucket = uniqueName('sgs3');

  beforeAll(async () => {
    server = await startS3rver();
    ({ ctx, driver, close } = s3Driver(server.endpoint, { options: SMALL_PARTS }));
    await driver.createContainer(bucket);
  });
  afterAll(async () => {
    await close?.();
    await server?.stop();
  });

  const OPS = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload'];

  it('sends a body of unknown size up to the threshold as one PutObject', async () => {
    ctx.resetCalls();
    const body = bytes(5 * MiB);
    const object = await driver.uploadObject(bucket, 'at-threshold.bin', body.chunks());
    expect(calls(ctx, ...OPS)).toEqual({ PutObject: 1, CreateMultipartUpload: 0, UploadPart: 0, CompleteMultipartUpload: 0, AbortMultipartUpload: 0 });
    expect(object).toMatchObject({ size: 5 * MiB, hash: body.md5() });
    expect(object.extra.etag).toBe(object.hash);
  });

  it('streams a body of known size below the threshold as one PutObject', async () => {
    ctx.resetCalls();
    const body = bytes(3 * MiB + 7, { chunk: 64 * 1024 });
    const object = await driver.uploadObject(bucket, 'known-small.bin', body.chunks(), { size: 3 * MiB + 7, contentType: 'text/plain' });
    expect(calls(ctx, 'PutObject', 'CreateMultipartUpload')).toEqual({ PutObject: 1, CreateMultipartUpload: 0 });
    expect(object).toMatchObject({ size: 3 * MiB + 7, hash: body.md5(), contentType: 'text/plain' });
    const got = await driver.getObject(bucket, 'known-small.bin');
    expect(got).toMatchObject({ size: 3 * MiB + 7, hash: object.hash, contentType: 'text/plain' });
  });

  it('switches to multipart one byte past the threshold, with parts of partSizeBytes', async () => {
    ctx.resetCalls();
    const body = bytes(5 * MiB + 1);
    const object = await driver.uploadObject(bucket, 'past-threshold.bin', body.chunks(), { metadata: { kind: 'multipart' } });
    expect(calls(ctx, ...OPS)).toEqual({ PutObject: 0, CreateMultipartUpload: 1, UploadPart: 2, CompleteMultipartUpload: 1, AbortMultipartUpload: 0 });
    expect(object).toMatchObject({ size: 5 * MiB + 1, hash: body.md5(), metadata: { kind: 'multipart' } });
    expect(object.extra.partsCount).toBe(2);
    const got = await driver.getObject(bucket, 'past-threshold.bin');
    expect(got.size).toBe(5 * MiB + 1);
    expect(got.metadata).toEqual({ kind: 'multipart' });
  });

  it('uploads a 23 MiB body of unknown size in 5 parts and reads back the same bytes', async () => {
    ctx.resetCalls();
    const body = bytes(23 * MiB, { chunk: 1_000_003 });
    const object = await driver.uploadObject(bucket, 'multi/23mib.bin', body.chunks());
    expect(calls(ctx, ...OPS)).toEqual({ PutObject: 0, CreateMultipartUpload: 1, UploadPart: 5, CompleteMultipartUpload: 1, AbortMultipartUpload: 0 });
    const md5 = body.md5();
    expect(object.hash).toBe(md5);
    const download = await driver.downloadObject(bucket, 'multi/23mib.bin');
    expect(download.object.size).toBe(23 * MiB);
    expect(await md5Of(download.body)).toEqual({ md5, size: 23 * MiB });
  });

  it('goes straight to multipart when the given size is over the threshold', async () => {
    ctx.resetCalls();
    const body = bytes(11 * MiB);
    const object = await driver.uploadObject(bucket, 'known-large.bin', body.chunks(), { size: 11 * MiB });
    expect(calls(ctx, ...OPS)).toEqual({ PutObject: 0, CreateMultipartUpload: 1, UploadPart: 3, CompleteMultipartUpload: 1, AbortMultipartUpload: 0 });
    expect(object).toMatchObject({ size: 11 * MiB, hash: body.md5() });
  });

  it('serves a range that spans a part boundary of a multipart object', async () => {
    const start = 5 * MiB - 10;
    const download = await driver.downloadObject(bucket, 'known-large.bin', { start, end: start + 19 });
    expect(download.range).toEqual({ start, end: start + 19, total: 11 * MiB });
    const got = await readAll(download.body);
    // bytes() fills chunk i with i % 251; the boundary sits between chunks 19 and 20
    expect([...got]).toEqual([...Array(10).fill(19), ...Array(10).fill(20)]);
  });

  it('answers a range past the end with InvalidInputError on field range', async () => {
    await expectTypedError(driver.downloadObject(bucket, 'known-small.bin', { start: 10 * MiB }), InvalidInputError, 'range');
  });

  it('aborts the multipart upload when the body fails midway, leaving no object', async () => {
    ctx.resetCalls();
    const boom = new Error('client went away');
    const body = bytes(20 * MiB, { failAfter: 12 * MiB, error: boom });
    await expect(driver.uploadObject(bucket, 'broken-multipart.bin', body.chunks())).rejects.toBe(boom);
    expect(calls(ctx, 'CreateMultipartUpload', 'CompleteMultipartUpload', 'AbortMultipartUpload')).toEqual({
      CreateMultipartUpload: 1,
      CompleteMultipartUpload: 0,
      AbortMultipartUpload: 1,
    });
    expect(ctx.calls.get('UploadPart')).toBeGreaterThanOrEqual(1);
    // why: s3rver does not implement ListMultipartUploads (nor Abort, which it refuses); the Swift suite checks both
    await expectTypedError(driver.getObject(bucket, 'broken-multipart.bin'), NotFoundError);
    expect(ctx.logs.some((l) => l.level === 'warn' && l.msg.includes('AbortMultipartUpload'))).toBe(true);
  });

  // why: s3rver writes a PUT in place, so a PUT cut off midway can leave a partial file it serves
  // (AWS and Swift never do); that nothing is stored is checked against Swift's s3api
  it('rethrows the body\'s own error when a streamed single PUT fails midway', async () => {
    const boom = new Error('stream broke');
    const body = bytes(2 * MiB, { failAfter: MiB, error: boom, chunk: 64 * 1024 });
    await expect(driver.uploadObject(bucket, 'broken-put.bin', body.chunks(), { size: 2 * MiB })).rejects.toBe(boom);
  });

  it('refuses a body that does not match the size it was given', async () => {
    await expectTypedError(driver.uploadObject(bucket, 'short.bin', bytes(10).chunks(), { size: 20 }), InvalidInputError, 'size');
    await expectTypedError(driver.uploadObject(bucket, 'long.bin', bytes(6 * MiB).chunks(), { size: 5 * MiB + 1 }), InvalidInputError, 'size');
  });

  it('presigned URLs work with plain fetch: PUT then GET', async () => {
    const put = await driver.createUploadUrl!(bucket, 'via url/ünïcode.txt', 60);
    expect(put).toMatchObject({ method: 'PUT', headers: {} });
    const stored = await fetch(put.url, { method: 'PUT', body: 'sent without skygraph' });
    expect(stored.status).toBe(200);
    const get = await fetch(await driver.getDownloadUrl!(bucket, 'via url/ünïcode.txt', 60));
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('sent without skygraph');
  });

  it('maps S3 errors: existing bucket, missing bucket, unknown access key', async () => {
    await expectTypedError(driver.createContainer(bucket), ContainerAlreadyExistsError);
    await expectTypedError(driver.deleteContainer(uniqueName('sgs3-none')), NotFoundError);
    const stranger = s3Driver(server.endpoint, { credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'never-shown-secret' } });
    try {
      const err = await expectTypedError(stranger.driver.listContainers(), AuthenticationError);
      expect(err.message).toContain('InvalidAccessKeyId');
      expect(err.message).not.toContain('never-shown-secret');
    } finally {
      await stranger.close();
    }
  });

  it('refuses keys it cannot address and invalid metadata, naming the field', async () => {
    await expectTypedError(driver.uploadObject(bucket, 'a/../b', bytes(1).chunks()), InvalidInputError, 'name');
    await expectTypedError(driver.getObject(bucket, ''), InvalidInputError, 'name');
    await expectTypedError(driver.getObject('bad/bucket', 'x'), InvalidInputError, 'container');
    await expectTypedError(
      driver.uploadObject(bucket, 'm.txt', bytes(1).chunks(), { metadata: { 'bad name': 'x' } }),
      InvalidInputError,
      'metadata.bad name',
    );
    await expectTypedError(driver.uploadObject(bucket, 'm.txt', bytes(1).chunks(), { metadata: { note: 'line\nbreak' } }), InvalidInputError, 'metadata.note');
  });
});

describe('s3: addressing and options (no network)', () => {
  it('uses virtual-host addressing on AWS, path-style for dotted buckets and when asked', async () => {
    const aws = s3Driver(undefined, { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-key' } }, 'eu-west-1');
    const vhost = new URL(await aws.driver.getDownloadUrl!('my-bucket', 'a b/c+d.txt', 60));
    expect(`${vhost.origin}${vhost.pathname}`).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd.txt');
    expect(vhost.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(vhost.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(vhost.toString()).not.toContain('example-secret-key');
    const dotted = new URL(await aws.driver.getDownloadUrl!('my.bucket', 'k', 60));
    expect(`${dotted.origin}${dotted.pathname}`).toBe('https://s3.eu-west-1.amazonaws.com/my.bucket/k');
    await aws.close();

    const forced = s3Driver(undefined, { options: { pathStyle: true } }, 'us-west-2');
    const path = new URL(await forced.driver.getDownloadUrl!('my-bucket', 'k', 60));
    expect(`${path.origin}${path.pathname}`).toBe('https://s3.us-west-2.amazonaws.com/my-bucket/k');
    await forced.close();

    const custom = s3Driver('https://storage.example.com/base', { options: { pathStyle: false } });
    const hosted = new URL(await custom.driver.getDownloadUrl!('bkt', '/leading/slash', 60));
    expect(`${hosted.origin}${hosted.pathname}`).toBe('https://bkt.storage.example.com/base/%2Fleading/slash');
    await custom.close();
  });

  it('validates options and credentials, naming fields and never values', () => {
    const account = (over: Partial<AccountConfig>): AccountConfig => ({
      id: 'a',
      driver: 's3',
      regions: ['us-east-1'],
      credentials: {},
      options: {},
      pollIntervalMs: 5000,
      timeoutMs: 10000,
      ...over,
    });
    expect(validateS3Account(account({}))).toEqual([]);
    expect(validateS3Account(account({ options: { pathStyle: true, multipartThresholdBytes: 0, partSizeBytes: 5 * MiB } }))).toEqual([]);
    const problems = validateS3Account(
      account({
        options: { pathStyle: 'yes', partSizeBytes: MiB, multipartThresholdBytes: -1, colour: 'red' },
        credentials: { accessKeyId: 'AKIDSECRETVALUE', apiKey: 'zzz' },
      }),
    );
    expect(problems).toEqual([
      'options.colour is not an s3 option',
      'options.pathStyle must be true or false',
      expect.stringContaining('options.multipartThresholdBytes'),
      expect.stringContaining('options.partSizeBytes'),
      'credentials.apiKey is not an s3 credential',
      'credentials.secretAccessKey is required with credentials.accessKeyId',
    ]);
    expect(problems.join('\n')).not.toContain('AKIDSECRETVALUE');
  });
});

describe('s3: error mapping (no network)', () => {
  const xml = (code: string, message: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>R1</RequestId></Error>`;
  const info = (status: number, bodyText: string, headers: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': 'application/xml', ...headers },
    bodyText,
    operation: 'Op',
  });

  it('maps S3 codes to typed errors, keeping code, message and request id', () => {
    const throttled = parseS3Error(info(503, xml('SlowDown', 'Please reduce your request rate.'), { 'retry-after': '2' }));
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect(throttled.retryable).toBe(true);
    expect((throttled as RateLimitedError).retryAfterMs).toBe(2000);
    expect(throttled.message).toBe('[s3] Op 503 SlowDown: Please reduce your request rate.');
    expect(throttled.requestId).toBe('R1');
    expect(parseS3Error(info(403, xml('AccessDenied', 'Access Denied')))).toBeInstanceOf(AuthenticationError);
    expect(parseS3Error(info(404, xml('NoSuchUpload', 'gone')))).toBeInstanceOf(NotFoundError);
    expect(parseS3Error(info(409, xml('BucketNotEmpty', 'not empty')))).toBeInstanceOf(ContainerNotEmptyError);
    expect(parseS3Error(info(409, xml('BucketAlreadyExists', 'taken')))).toBeInstanceOf(ContainerAlreadyExistsError);
    const range = parseS3Error(info(416, xml('InvalidRange', 'The requested range is not satisfiable')));
    expect(range).toBeInstanceOf(InvalidInputError);
    expect((range as InvalidInputError).field).toBe('range');
    const internal = parseS3Error(info(500, xml('InternalError', 'try again')));
    expect(internal).toBeInstanceOf(ProviderError);
    expect(internal.retryable).toBe(true);
  });

  it('maps body-less HEAD answers by status, and names the region of a redirected bucket', () => {
    expect(parseS3Error({ status: 404, headers: {}, bodyText: '', operation: 'HeadObject' })).toBeInstanceOf(NotFoundError);
    expect(parseS3Error({ status: 403, headers: {}, bodyText: '', operation: 'HeadBucket' })).toBeInstanceOf(AuthenticationError);
    const moved = parseS3Error({ status: 301, headers: { 'x-amz-bucket-region': 'eu-west-3' }, bodyText: '', operation: 'HeadBucket' });
    expect(moved).toBeInstanceOf(ProviderError);
    expect(moved.message).toContain('region eu-west-3');
    expect(moved.retryable).toBe(false);
  });
});
