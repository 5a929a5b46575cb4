/**
 * Cloud Storage: the shared storage conformance suite against the Cloud Storage stand-in
 * (test/helpers/gce-server/storage.ts), with 1 MiB chunks so its large object goes through a
 * resumable session, and its presigned URLs fetched for real (the stand-in verifies V4
 * signatures). Then what is particular to gcs: multipart and resumable uploads, paging, signed
 * URLs, Google's error bodies and tokens.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ContainerAlreadyExistsError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  UnsupportedError,
} from '../../src/providers/errors.ts';
import type { GoogleDeps } from '../../src/providers/google/client.ts';
import { createGcsInstance, gcsProvider, validateGcsAccount } from '../../src/providers/google/gcs/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError, modelChecks } from '../conformance/assertions.ts';
import { readAll, testStorageDriver } from '../conformance/storage.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startGcsServer, testServiceAccount, type GcsTestServer } from '../helpers/gce-server/index.ts';

const MiB = 1024 * 1024;
const FAST: GoogleDeps = { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 }, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))), env: {} };
const KEY_LINES = testServiceAccount('http://127.0.0.1/token').privateKeyPem.split('\n').slice(3, 6);
const check = modelChecks(KEY_LINES);

type Harness = DriverHarness<GcsTestServer, StorageDriver>;

async function harness(opts: { account?: Partial<AccountConfig>; maxResults?: number } = {}): Promise<Harness> {
  const server = await startGcsServer({ maxResults: opts.maxResults });
  const ctx = testDriverContext({
    driver: 'gcs',
    endpoint: server.url,
    credentials: { serviceAccountJson: server.serviceAccountJson },
    options: { chunkSizeBytes: MiB },
    ...opts.account,
  });
  const instance = createGcsInstance(ctx, FAST);
  return driverHarness(server, ctx, instance, instance.storage!);
}

async function* chunks(parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

function pattern(bytes: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const uploads = (h: Harness) => h.server.requests.filter((r) => r.path.startsWith('/upload/'));

let conformanceServer: GcsTestServer | undefined;
testStorageDriver({
  name: 'gcs',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['getDownloadUrl', 'createUploadUrl'],
  fetchPresignedUrls: true,
  secrets: KEY_LINES,
});

describe('gcs provider', () => {
  it('the conformance run sent its large object in 1 MiB chunks and the small ones in one request each', () => {
    const { chunkSizes, multipartSizes } = conformanceServer!.storage;
    expect(chunkSizes).toEqual(Array(8).fill(MiB));
    expect(multipartSizes.length).toBeGreaterThan(10);
    expect(Math.max(...multipartSizes)).toBeLessThanOrEqual(MiB);
    expect(conformanceServer!.token.issued).toBe(1);
  });

  it('is registered as a storage provider without regions', async () => {
    expect(await loadProvider('gcs')).toBe(gcsProvider);
    expect(gcsProvider).toMatchObject({ name: 'gcs', services: ['STORAGE'], regional: false });
  });

  it('validates its options, naming the field and never the value', () => {
    const account = (options: Record<string, unknown>) => testDriverContext({ driver: 'gcs', credentials: { accessToken: 'ya29.x' }, options: { project: 'skygraph-test', ...options } }).account;
    expect(validateGcsAccount(account({ location: 'EU', storageClass: 'NEARLINE', chunkSizeBytes: 4 * MiB }), {})).toEqual([]);
    expect(validateGcsAccount(account({ location: 'eu west', storageClass: 'COLD', chunkSizeBytes: 1000, partSize: 1 }), {})).toEqual([
      'options.partSize is not a gcs option (known: project, keyFile, location, storageClass, chunkSizeBytes)',
      'options.location must be a bucket location (US, EU, ASIA, a region like europe-west1, or a dual-region)',
      'options.storageClass must be one of STANDARD, NEARLINE, COLDLINE, ARCHIVE',
      'options.chunkSizeBytes must be a multiple of 262144 (256 KiB) up to 1 GiB',
    ]);
  });
});

describe('gcs: listing and reading', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('lists the project\'s buckets, one call per page', async () => {
    await h.close();
    h = await harness({ maxResults: 1 });
    const buckets = await h.driver.listContainers();
    expect(buckets.map((b) => b.name)).toEqual(['skygraph-assets', 'skygraph-logs-eu']);
    expect(buckets[1]).toMatchObject({ objectCount: null, bytes: null, extra: { location: 'EUROPE-WEST1', storageClass: 'NEARLINE', versioning: true, locationType: 'region' } });
    const calls = h.server.requests.filter((r) => r.path === '/storage/v1/b');
    expect(calls.map((r) => [r.query.get('project'), r.query.get('pageToken') !== null])).toEqual([
      ['skygraph-test', false],
      ['skygraph-test', true],
    ]);
  });

  it('maps objects: hex MD5 from md5Hash, size, type, metadata, generation', async () => {
    const page = await h.driver.listObjects('skygraph-assets');
    expect(page.nextCursor).toBeNull();
    const logo = page.objects.find((o) => o.name === 'img/logo.svg')!;
    const data = Buffer.from('skygraph fixture object img/logo.svg\n');
    expect(logo).toMatchObject({ container: 'skygraph-assets', size: data.length, hash: md5(data), contentType: 'image/svg+xml', metadata: { owner: 'design' } });
    expect(logo.extra).toMatchObject({ generation: '1716213100001111', storageClass: 'STANDARD' });
    expect(logo.lastModified).toEqual(new Date('2024-05-20T13:51:40.000Z'));
  });

  it('pages objects with pageToken as the cursor', async () => {
    const first = await h.driver.listObjects('skygraph-assets', { limit: 2 });
    expect(first.objects.map((o) => o.name)).toEqual(['css/site.css', 'img/logo.svg']);
    const second = await h.driver.listObjects('skygraph-assets', { limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ objects: [{ name: 'index.html' }], nextCursor: null });
    const calls = h.server.requests.filter((r) => r.path.endsWith('/o'));
    expect(calls.map((r) => [r.query.get('maxResults'), r.query.get('pageToken')])).toEqual([
      ['2', null],
      ['2', first.nextCursor],
    ]);
  });

  it('downloads the generation it described, streaming, with a range', async () => {
    const got = await h.driver.downloadObject('skygraph-assets', 'index.html', { start: 9, end: 15 });
    expect((await readAll(got.body)).toString()).toBe('fixture');
    expect(got.range).toEqual({ start: 9, end: 15, total: 35 });
    const media = h.server.requests.find((r) => r.query.get('alt') === 'media')!;
    expect(media.path).toBe('/storage/v1/b/skygraph-assets/o/index.html');
    expect(media.query.get('generation')).toBe('1716213100002222');
    expect(media.headers.range).toBe('bytes=9-15');
    await expectTypedError(h.driver.downloadObject('skygraph-assets', 'index.html', { start: 35 }), InvalidInputError, 'range');
  });

  it('maps missing buckets and objects to NotFoundError and an existing bucket name to ContainerAlreadyExistsError', async () => {
    const missing = await expectTypedError(h.driver.getContainer('no-such-bucket-here'), NotFoundError);
    expect(missing.message).toBe('[gcs] GET bucket 404 notFound: The specified bucket does not exist.');
    const noObject = await expectTypedError(h.driver.getObject('skygraph-assets', 'nope.txt'), NotFoundError);
    expect(noObject.message).toBe('[gcs] GET object 404 notFound: No such object: skygraph-assets/nope.txt');
    const taken = await expectTypedError(h.driver.createContainer('skygraph-assets'), ContainerAlreadyExistsError);
    expect(taken.message).toMatch(/^\[gcs\] POST buckets 409 conflict: /);
    await expectTypedError(h.driver.getContainer('Not_A_Bucket'), InvalidInputError, 'container');
  });

  it('maps 403 to AuthenticationError and retries 429 rateLimitExceeded, then answers RateLimitedError', async () => {
    h.server.inject({ match: (r) => r.path.endsWith('/o/index.html'), status: 403, file: 'gcs/error-forbidden.json' });
    const denied = await expectTypedError(h.driver.getObject('skygraph-assets', 'index.html'), AuthenticationError);
    expect(denied.message).toMatch(/^\[gcs\] GET object 403 forbidden: skygraph-ci@/);
    h.server.inject({ match: (r) => r.path.endsWith('/o'), status: 429, file: 'gcs/error-rate-limited.json', headers: { 'retry-after': '3' }, times: 3 });
    const limited = await expectTypedError(h.driver.listObjects('skygraph-assets'), RateLimitedError);
    expect(limited.retryAfterMs).toBe(3000);
    h.server.inject({ match: (r) => r.path.endsWith('/o'), status: 503, file: 'gcs/error-backend.json' });
    expect((await h.driver.listObjects('skygraph-assets')).objects.length).toBe(3);
    check.error(denied);
    check.error(limited);
  });

  it('fetches a new token once when Cloud Storage answers 401', async () => {
    await h.driver.listContainers();
    h.server.token.revokeAll();
    expect((await h.driver.listContainers()).length).toBe(2);
    expect(h.server.token.issued).toBe(2);
  });
});

describe('gcs: uploads', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('sends a body that fits in one chunk as one multipart request with its MD5', async () => {
    const data = pattern(MiB);
    const object = await h.driver.uploadObject('skygraph-assets', 'one/chunk.bin', chunks([data.subarray(0, 1000), data.subarray(1000)]), { contentType: 'application/x-test', metadata: { k: 'v' } });
    check.object(object);
    expect(object).toMatchObject({ size: MiB, hash: md5(data), contentType: 'application/x-test', metadata: { k: 'v' } });
    const [req, ...rest] = uploads(h);
    expect(rest).toEqual([]);
    expect(req!.query.get('uploadType')).toBe('multipart');
    expect(req!.headers['content-type']).toMatch(/^multipart\/related; boundary=skygraph-[0-9a-f]{32}$/);
    expect(h.server.storage.multipartSizes).toEqual([MiB]);
  });

  it('sends a longer body of unknown size through a resumable session in 256 KiB-multiple chunks, the last one short', async () => {
    const data = pattern(2 * MiB + 123_457);
    const parts = Array.from({ length: Math.ceil(data.length / 100_000) }, (_, i) => data.subarray(i * 100_000, (i + 1) * 100_000));
    const object = await h.driver.uploadObject('skygraph-assets', 'big/unknown.bin', chunks(parts));
    expect(object).toMatchObject({ size: data.length, hash: md5(data), contentType: 'application/octet-stream' });
    expect(h.server.storage.chunkSizes).toEqual([MiB, MiB, 123_457]);
    const [start, ...puts] = uploads(h);
    expect(start!.method).toBe('POST');
    expect(start!.query.get('uploadType')).toBe('resumable');
    expect(start!.headers['x-upload-content-type']).toBe('application/octet-stream');
    expect(start!.headers['x-upload-content-length']).toBeUndefined();
    expect(puts.map((r) => r.headers['content-range'])).toEqual([`bytes 0-${MiB - 1}/*`, `bytes ${MiB}-${2 * MiB - 1}/*`, `bytes ${2 * MiB}-${data.length - 1}/${data.length}`]);
    expect(h.server.storage.buckets.get('skygraph-assets')!.objects.get('big/unknown.bin')!.data.equals(data)).toBe(true);
  });

  it('marks a full last chunk as the last when the body ends on a chunk boundary, and announces a known size', async () => {
    const data = pattern(2 * MiB, 3);
    await h.driver.uploadObject('skygraph-assets', 'big/exact.bin', chunks([data]), { size: data.length });
    const [start, ...puts] = uploads(h);
    expect(start!.headers['x-upload-content-length']).toBe(String(2 * MiB));
    expect(puts.map((r) => r.headers['content-range'])).toEqual([`bytes 0-${MiB - 1}/*`, `bytes ${MiB}-${2 * MiB - 1}/${2 * MiB}`]);
  });

  it('sends again what Cloud Storage did not persist of a chunk (308 with a shorter Range)', async () => {
    const data = pattern(MiB + 10, 5);
    // why: Cloud Storage persists in 256 KiB units, so the resent rest is still a multiple of them
    h.server.storage.persistOnly = 256 * 1024;
    const object = await h.driver.uploadObject('skygraph-assets', 'big/partial.bin', chunks([data]));
    expect(object.hash).toBe(md5(data));
    const puts = uploads(h).slice(1);
    expect(puts.map((r) => r.headers['content-range'])).toEqual([`bytes 0-${MiB - 1}/*`, `bytes ${256 * 1024}-${MiB - 1}/*`, `bytes ${MiB}-${MiB + 9}/${MiB + 10}`]);
  });

  it('holds at most one chunk of the body: the first chunk is sent before the third is read', async () => {
    let produced = 0;
    let producedAtFirstChunk: number | undefined;
    h.server.storage.onChunk = () => (producedAtFirstChunk ??= produced);
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 16; i++) {
        produced += 256 * 1024;
        yield pattern(256 * 1024, i);
      }
    }
    await h.driver.uploadObject('skygraph-assets', 'big/streamed.bin', body());
    expect(h.server.storage.chunkSizes).toEqual([MiB, MiB, MiB, MiB]);
    // why: one chunk in the buffer plus the caller's chunk read ahead to see whether the body ends
    expect(producedAtFirstChunk).toBeLessThanOrEqual(MiB + 256 * 1024);
  });

  it('cancels the session and rethrows the caller\'s error when the body fails midway', async () => {
    const boom = new Error('disk went away');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield pattern(MiB);
      yield pattern(512 * 1024);
      throw boom;
    }
    await expect(h.driver.uploadObject('skygraph-assets', 'big/failing.bin', failing())).rejects.toBe(boom);
    const last = uploads(h).at(-1)!;
    expect(last.method).toBe('DELETE');
    expect(h.server.storage.sessions.size).toBe(0);
    expect(h.server.storage.buckets.get('skygraph-assets')!.objects.has('big/failing.bin')).toBe(false);
  });

  it('refuses a body that is not the announced size', async () => {
    await expectTypedError(h.driver.uploadObject('skygraph-assets', 'short.bin', chunks(['abc']), { size: 5 }), InvalidInputError, 'size');
    await expectTypedError(h.driver.uploadObject('skygraph-assets', 'long.bin', chunks(['abcdef']), { size: 5 }), InvalidInputError, 'size');
    expect(uploads(h)).toEqual([]);
  });
});

describe('gcs: signed URLs', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('signs GOOG4-RSA-SHA256 URLs the server accepts, and that expire', async () => {
    h.ctx.clock.set(Date.now());
    const url = new URL(await h.driver.getDownloadUrl!('skygraph-assets', 'css/site.css', 60));
    expect(url.pathname).toBe('/skygraph-assets/css/site.css');
    expect(url.searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(url.searchParams.get('X-Goog-Credential')).toMatch(/^skygraph-ci@skygraph-test\.iam\.gserviceaccount\.com\/\d{8}\/auto\/storage\/goog4_request$/);
    expect(url.searchParams.get('X-Goog-SignedHeaders')).toBe('host');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('skygraph fixture object css/site.css\n');
    const tampered = new URL(url);
    tampered.searchParams.set('X-Goog-Expires', '600');
    expect((await fetch(tampered)).status).toBe(400);
    h.ctx.clock.set(Date.now() - 120_000);
    const expired = await fetch(await h.driver.getDownloadUrl!('skygraph-assets', 'css/site.css', 60));
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('ExpiredToken');
  });

  it('presigns a PUT that stores the object', async () => {
    const req = await h.driver.createUploadUrl!('skygraph-assets', 'uploads/via url.txt', 300);
    expect(req).toMatchObject({ method: 'PUT', headers: {} });
    const res = await fetch(req.url, { method: 'PUT', body: 'hello via a signed url', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect(await h.driver.getObject('skygraph-assets', 'uploads/via url.txt')).toMatchObject({ size: 22, contentType: 'text/plain' });
  });

  it('refuses expiries over seven days, and answers UNSUPPORTED without a service-account key', async () => {
    await expectTypedError(h.driver.getDownloadUrl!('skygraph-assets', 'index.html', 604_801), InvalidInputError, 'expiresInSeconds');
    const ctx = testDriverContext({ driver: 'gcs', endpoint: h.server.url, credentials: { accessToken: h.server.token.mint() }, options: { project: 'skygraph-test' } });
    const instance = createGcsInstance(ctx, FAST);
    try {
      expect((await instance.storage!.listContainers()).length).toBe(2);
      await expectTypedError(instance.storage!.getDownloadUrl!('skygraph-assets', 'index.html', 60), UnsupportedError);
    } finally {
      await instance.close?.();
    }
  });
});
