/**
 * The s3 driver against OpenStack Swift's s3api middleware: a second, stricter S3 server that
 * really checks SigV4 signatures and implements ListMultipartUploads/AbortMultipartUpload.
 * The Swift all-in-one is started by scripts/swift-start.sh (see test/helpers/swift.ts); the test
 * fails when Swift is not installed (scripts/install-test-deps.sh installs it).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, type S3Client } from '../../src/providers/aws/s3/client.ts';
import { s3Provider } from '../../src/providers/aws/s3/index.ts';
import { AuthenticationError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { xmlList } from '../../src/providers/http/parsers/xml.ts';
import type { StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError, uniqueName } from '../conformance/assertions.ts';
import { testStorageDriver } from '../conformance/storage.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';
import { startSwift, type SwiftHandle } from '../helpers/swift.ts';

const MiB = 1024 * 1024;
const SMALL_PARTS = { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB };
const WRONG_SECRET = 'wrong-secret-4f1c9a';

let swift: SwiftHandle | undefined;
// why: one Swift for the whole file (it takes ~10 s to start); file-level hooks wrap every describe
beforeAll(async () => {
  swift = await startSwift();
});
afterAll(async () => {
  await swift?.stop();
});

function started(): SwiftHandle {
  if (!swift) throw new Error('Swift did not start (see the beforeAll error)');
  return swift;
}

function driverFor(s: SwiftHandle, secretAccessKey = s.s3.secretAccessKey) {
  const ctx = testDriverContext(
    {
      driver: 's3',
      endpoint: s.s3.endpoint,
      regions: [s.s3.region],
      credentials: { accessKeyId: s.s3.accessKeyId, secretAccessKey },
      options: SMALL_PARTS,
    },
    { region: s.s3.region },
  );
  const instance = s3Provider.create(ctx);
  return { ctx, driver: instance.storage as StorageDriver, close: () => instance.close?.() ?? Promise.resolve() };
}

testStorageDriver({
  name: 's3 (Swift s3api)',
  capabilities: ['getDownloadUrl', 'createUploadUrl'],
  largeObjectBytes: 24 * MiB,
  fetchPresignedUrls: true,
  secrets: ['testing'],
  async create() {
    const { driver, close } = driverFor(started());
    return { driver, cleanup: close };
  },
});

describe('s3: Swift s3api specifics', () => {
  let s: SwiftHandle;
  let ctx: TestDriverContext;
  let driver: StorageDriver;
  let close: () => Promise<void>;
  let raw: S3Client;
  const bucket = uniqueName('sgsw');

  beforeAll(async () => {
    s = started();
    ({ ctx, driver, close } = driverFor(s));
    raw = createS3Client({
      endpoint: new URL(s.s3.endpoint),
      region: s.s3.region,
      pathStyle: true,
      credentials: async () => ({ accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey }),
      recordCall: () => undefined,
      now: () => new Date(),
    });
    await driver.createContainer(bucket);
  });
  afterAll(async () => {
    if (driver) {
      const page = await driver.listObjects(bucket).catch(() => ({ objects: [] }));
      for (const o of page.objects) await driver.deleteObject(bucket, o.name).catch(() => undefined);
      await driver.deleteContainer(bucket).catch(() => undefined);
    }
    await raw?.close();
    await close?.();
  });

  it('rejects a wrong secret with AuthenticationError, never echoing the secret', async () => {
    const wrong = driverFor(s, WRONG_SECRET);
    try {
      const listing = await expectTypedError(wrong.driver.listContainers(), AuthenticationError);
      expect(listing.status).toBe(403);
      // why: not 'SignatureDoesNotMatch' whole: the connection's scrubber redacts the word "Signature"
      // (a piece of the Authorization header) wherever it appears in an error message
      expect(listing.message).toMatch(/DoesNotMatch/);
      const upload = await expectTypedError(wrong.driver.uploadObject(bucket, 'nope.txt', once('x')), AuthenticationError);
      for (const err of [listing, upload]) {
        expect(err.message).not.toContain(WRONG_SECRET);
        expect(JSON.stringify(err)).not.toContain(WRONG_SECRET);
        expect(String(err.stack)).not.toContain(WRONG_SECRET);
      }
      // the right secret sees that nothing was stored
      await expectTypedError(driver.getObject(bucket, 'nope.txt'), NotFoundError);
    } finally {
      await wrong.close();
    }
  });

  it('uploads in parts, reporting the real MD5 while S3 keeps a composite ETag', async () => {
    ctx.resetCalls();
    const { chunks, md5 } = pattern(12 * MiB);
    const object = await driver.uploadObject(bucket, 'parts.bin', chunks());
    expect(ctx.calls.get('UploadPart')).toBe(3);
    expect(object.hash).toBe(md5());
    expect(object.extra.etag).toMatch(/^[0-9a-f]{32}-3$/);
    const got = await driver.getObject(bucket, 'parts.bin');
    expect(got.size).toBe(12 * MiB);
    expect(got.hash).toBe(object.extra.etag);
  });

  it('aborts a failed multipart upload: no object, no upload in progress', async () => {
    ctx.resetCalls();
    const boom = new Error('producer failed');
    const { chunks } = pattern(16 * MiB, { failAfter: 11 * MiB, error: boom });
    await expect(driver.uploadObject(bucket, 'aborted.bin', chunks())).rejects.toBe(boom);
    expect(ctx.calls.get('CreateMultipartUpload')).toBe(1);
    expect(ctx.calls.get('AbortMultipartUpload')).toBe(1);
    expect(ctx.calls.get('CompleteMultipartUpload') ?? 0).toBe(0);
    expect(ctx.logs.filter((l) => l.level === 'warn')).toEqual([]);
    await expectTypedError(driver.getObject(bucket, 'aborted.bin'), NotFoundError);

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
    const res = await raw.request<{ ListMultipartUploadsResult?: { Upload?: unknown } }>({
      operation: 'ListMultipartUploads',
      bucket,
      subresource: '?uploads',
      responseType: 'xml',
      xmlArrays: ['ListMultipartUploadsResult.Upload'],
    });
    expect(res.body?.ListMultipartUploadsResult).toBeDefined();
    expect(xmlList(res.body?.ListMultipartUploadsResult?.Upload)).toEqual([]);
  });

  it('leaves no object when a streamed single PUT fails midway', async () => {
    const boom = new Error('stream broke');
    const { chunks } = pattern(2 * MiB, { failAfter: MiB, error: boom });
    await expect(driver.uploadObject(bucket, 'broken-put.bin', chunks(), { size: 2 * MiB })).rejects.toBe(boom);
    await expectTypedError(driver.getObject(bucket, 'broken-put.bin'), NotFoundError);
  });

  it('refuses a body that does not match the size it was given, storing nothing', async () => {
    await expectTypedError(driver.uploadObject(bucket, 'short.bin', pattern(10).chunks(), { size: 20 }), InvalidInputError, 'size');
    await expectTypedError(driver.getObject(bucket, 'short.bin'), NotFoundError);
    await expectTypedError(driver.uploadObject(bucket, 'long.bin', pattern(6 * MiB).chunks(), { size: 5 * MiB + 1 }), InvalidInputError, 'size');
    await expectTypedError(driver.getObject(bucket, 'long.bin'), NotFoundError);
  });
});

// --- Internal helpers ---

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

function pattern(size: number, opts: { failAfter?: number; error?: Error } = {}) {
  const hash = createHash('md5');
  const chunk = 512 * 1024;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let sent = 0; sent < size; sent += chunk) {
      if (opts.failAfter !== undefined && sent >= opts.failAfter) throw opts.error ?? new Error('body broke');
      const piece = Buffer.alloc(Math.min(chunk, size - sent), sent % 253);
      hash.update(piece);
      yield piece;
    }
  }
  return { chunks, md5: () => hash.digest('hex') };
}
