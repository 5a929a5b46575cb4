/**
 * Storage conformance suite: containers, streamed uploads and downloads, metadata, listing,
 * pagination, ranges, and a large object that is never held in memory.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerNotEmptyError, NotFoundError } from '../../src/providers/errors.ts';
import type { StorageDriver } from '../../src/providers/types.ts';
import {
  expectDeclaredCapabilities,
  expectTypedError,
  modelChecks,
  uniqueName,
  type ListsEveryOptionalMethod,
  type OptionalKeys,
} from './assertions.ts';

export const STORAGE_OPTIONAL_METHODS = [
  'getDownloadUrl',
  'createUploadUrl',
  'getContainerCdnUrl',
  'enableContainerCdn',
] as const satisfies readonly OptionalKeys<StorageDriver>[];
export type StorageCapability = (typeof STORAGE_OPTIONAL_METHODS)[number];
// why: fails to compile when types.ts gains an optional method this list does not name
const _everyOptionalMethodListed: ListsEveryOptionalMethod<StorageDriver, StorageCapability> = true;

export interface StorageSuiteOptions {
  /** provider name, used in the describe title `storage: <name>` */
  name: string;
  create: () => Promise<{ driver: StorageDriver; cleanup?: () => Promise<void> }>;
  /** the optional methods the driver has; a test checks this against the driver */
  capabilities: readonly StorageCapability[];
  /** size of the streamed large object; default 8 MiB */
  largeObjectBytes?: number;
  /** fetch presigned URLs for real (emulators, live); otherwise only their shape is checked */
  fetchPresignedUrls?: boolean;
  /** strings (credentials) that must never appear in a model or an error message */
  secrets?: readonly string[];
}

const MD5_EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

export function testStorageDriver(opts: StorageSuiteOptions): void {
  const caps = new Set<string>(opts.capabilities);
  const largeObjectBytes = opts.largeObjectBytes ?? 8 * 1024 * 1024;
  const check = modelChecks(opts.secrets);

  describe(`storage: ${opts.name}`, () => {
    let driver: StorageDriver;
    let cleanup: (() => Promise<void>) | undefined;
    const container = uniqueName();
    const written = new Set<string>();

    const upload = async (name: string, chunks: Array<string | Uint8Array>, options?: Parameters<StorageDriver['uploadObject']>[3]) => {
      written.add(name);
      const object = await driver.uploadObject(container, name, generate(chunks), options);
      check.object(object);
      return object;
    };

    beforeAll(async () => {
      ({ driver, cleanup } = await opts.create());
    });

    afterAll(async () => {
      if (driver) {
        for (const name of written) await driver.deleteObject(container, name).catch(() => undefined);
        await driver.deleteContainer(container).catch(() => undefined);
      }
      await cleanup?.();
    });

    it('declares exactly the optional methods it has', () => {
      expectDeclaredCapabilities(driver, STORAGE_OPTIONAL_METHODS, opts.capabilities);
    });

    it('creates a container that appears in listContainers and getContainer', async () => {
      const created = await driver.createContainer(container);
      check.container(created);
      expect(created.name).toBe(container);
      const listed = await driver.listContainers();
      listed.forEach(check.container);
      expect(listed.map((c) => c.name)).toContain(container);
      const got = await driver.getContainer(container);
      check.container(got);
      expect(got.name).toBe(container);
      expect([0, null]).toContain(got.objectCount);
      expect([0, null]).toContain(got.bytes);
    });

    it('answers NotFoundError for a missing container', async () => {
      const missing = uniqueName('sgc-missing');
      check.error(await expectTypedError(driver.getContainer(missing), NotFoundError));
      check.error(await expectTypedError(driver.listObjects(missing), NotFoundError));
      check.error(await expectTypedError(driver.getObject(missing, 'x.txt'), NotFoundError));
    });

    it('uploads from an async generator in several chunks and reads the same bytes back', async () => {
      const chunks = ['hello ', 'from ', new Uint8Array(Array.from({ length: 256 }, (_, i) => i)), ' skygraph\n'];
      const expected = concat(chunks);
      const object = await upload('docs/hello.bin', chunks);
      expect(object).toMatchObject({ container, name: 'docs/hello.bin', size: expected.length, hash: md5(expected) });

      const got = await driver.getObject(container, 'docs/hello.bin');
      check.object(got);
      expect(got).toMatchObject({ container, name: 'docs/hello.bin', size: expected.length, hash: md5(expected) });

      const download = await driver.downloadObject(container, 'docs/hello.bin');
      check.object(download.object);
      expect(download.range).toBeUndefined();
      expect(await readAll(download.body)).toEqual(expected);
    });

    it('round-trips content type and user metadata', async () => {
      const metadata = { color: 'blue', owner: 'skygraph-conformance' };
      await upload('meta.txt', ['metadata'], { contentType: 'application/x-skygraph-test', metadata });
      const got = await driver.getObject(container, 'meta.txt');
      expect(got.contentType).toBe('application/x-skygraph-test');
      expect(got.metadata).toEqual(metadata);
      const download = await driver.downloadObject(container, 'meta.txt');
      expect(download.object.metadata).toEqual(metadata);
      await readAll(download.body);
    });

    it('keeps names with spaces and non-ASCII characters', async () => {
      const name = 'unicode/héllo wörld €.txt';
      await upload(name, ['unicode']);
      expect((await driver.getObject(container, name)).name).toBe(name);
      const page = await driver.listObjects(container, { prefix: 'unicode/' });
      expect(page.objects.map((o) => o.name)).toEqual([name]);
    });

    it('uploads an empty object', async () => {
      const object = await upload('empty', []);
      expect(object.size).toBe(0);
      expect(object.hash).toBe(MD5_EMPTY);
      const download = await driver.downloadObject(container, 'empty');
      expect((await readAll(download.body)).length).toBe(0);
    });

    it('overwrites an object with a new upload', async () => {
      await upload('overwrite.txt', ['first version']);
      const second = await upload('overwrite.txt', ['second']);
      expect(second.hash).toBe(md5(Buffer.from('second')));
      const download = await driver.downloadObject(container, 'overwrite.txt');
      expect((await readAll(download.body)).toString()).toBe('second');
    });

    it('lists by prefix', async () => {
      for (const name of ['prefix/a', 'prefix/b', 'prefixed', 'other/c']) await upload(name, [name]);
      const slash = await driver.listObjects(container, { prefix: 'prefix/' });
      slash.objects.forEach(check.object);
      expect(slash.objects.map((o) => o.name)).toEqual(['prefix/a', 'prefix/b']);
      expect(slash.nextCursor).toBeNull();
      const bare = await driver.listObjects(container, { prefix: 'prefix' });
      expect(bare.objects.map((o) => o.name)).toEqual(['prefix/a', 'prefix/b', 'prefixed']);
      const all = await driver.listObjects(container);
      const names = all.objects.map((o) => o.name);
      expect(names).toEqual(expect.arrayContaining(['prefix/a', 'prefixed', 'other/c', 'docs/hello.bin']));
      expect(names).toEqual([...names].sort(byteOrder));
    });

    it('paginates with limit 2 over 5 objects, visiting each once in order', async () => {
      const names = ['page/0', 'page/1', 'page/2', 'page/3', 'page/4'];
      for (const name of names) await upload(name, [name]);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages, 'pagination must end').toBeLessThan(5);
        const page = await driver.listObjects(container, { prefix: 'page/', limit: 2, cursor });
        expect(page.objects.length).toBeLessThanOrEqual(2);
        seen.push(...page.objects.map((o) => o.name));
        if (page.nextCursor === null) break;
        expect(typeof page.nextCursor).toBe('string');
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(names);
    });

    it('serves byte ranges', async () => {
      await upload('range.txt', [ALPHABET.slice(0, 10), ALPHABET.slice(10)]);
      const tail = await driver.downloadObject(container, 'range.txt', { start: 20 });
      expect((await readAll(tail.body)).toString()).toBe('uvwxyz');
      expect(tail.range).toEqual({ start: 20, end: 25, total: 26 });
      expect(tail.object.size).toBe(26);
      const middle = await driver.downloadObject(container, 'range.txt', { start: 2, end: 5 });
      expect((await readAll(middle.body)).toString()).toBe('cdef');
      expect(middle.range).toEqual({ start: 2, end: 5, total: 26 });
      const first = await driver.downloadObject(container, 'range.txt', { start: 0, end: 0 });
      expect((await readAll(first.body)).toString()).toBe('a');
    });

    it('answers NotFoundError for a missing object', async () => {
      check.error(await expectTypedError(driver.getObject(container, 'no/such/object'), NotFoundError));
      check.error(await expectTypedError(driver.downloadObject(container, 'no/such/object'), NotFoundError));
    });

    it('refuses to delete a container that still holds objects', async () => {
      check.error(await expectTypedError(driver.deleteContainer(container), ContainerNotEmptyError));
      expect((await driver.getContainer(container)).name).toBe(container);
    });

    it('deletes an object', async () => {
      await upload('doomed.txt', ['bye']);
      await driver.deleteObject(container, 'doomed.txt');
      written.delete('doomed.txt');
      check.error(await expectTypedError(driver.getObject(container, 'doomed.txt'), NotFoundError));
      const page = await driver.listObjects(container, { prefix: 'doomed' });
      expect(page.objects).toEqual([]);
    });

    it(`streams a ${largeObjectBytes}-byte object in and out without buffering it`, { timeout: 120_000 }, async () => {
      const source = patternStream(largeObjectBytes);
      written.add('large.bin');
      const object = await driver.uploadObject(container, 'large.bin', source.chunks());
      check.object(object);
      expect(object.size).toBe(largeObjectBytes);
      const expectedMd5 = source.md5();
      // why: multipart uploads report a composite ETag ("<hex>-<parts>"), which is not an MD5
      if (object.hash !== null && /^[0-9a-f]{32}$/.test(object.hash)) expect(object.hash).toBe(expectedMd5);

      const download = await driver.downloadObject(container, 'large.bin');
      expect(download.object.size).toBe(largeObjectBytes);
      const hash = createHash('md5');
      let bytes = 0;
      for await (const chunk of download.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      expect(bytes).toBe(largeObjectBytes);
      expect(hash.digest('hex')).toBe(expectedMd5);
    });

    it.skipIf(!caps.has('getDownloadUrl'))('presigns a download URL', async () => {
      await upload('presigned.txt', ['presigned body']);
      const url = new URL(await driver.getDownloadUrl!(container, 'presigned.txt', 300));
      expect(['http:', 'https:']).toContain(url.protocol);
      check.error(url.toString());
      if (opts.fetchPresignedUrls) {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('presigned body');
      }
    });

    it.skipIf(!caps.has('createUploadUrl'))('presigns an upload request', async () => {
      const before = Date.now();
      const req = await driver.createUploadUrl!(container, 'presigned-upload.txt', 300);
      written.add('presigned-upload.txt');
      expect(['http:', 'https:']).toContain(new URL(req.url).protocol);
      expect(['PUT', 'POST']).toContain(req.method);
      for (const v of Object.values(req.headers)) expect(typeof v).toBe('string');
      expect(req.expiresAt.getTime()).toBeGreaterThan(before);
      expect(req.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 301_000);
      if (opts.fetchPresignedUrls) {
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: 'uploaded via url' });
        expect(res.ok).toBe(true);
        expect((await driver.getObject(container, 'presigned-upload.txt')).size).toBe(16);
      }
    });

    it.skipIf(!caps.has('enableContainerCdn') || !caps.has('getContainerCdnUrl'))('enables a container CDN', async () => {
      await driver.enableContainerCdn!(container);
      const url = new URL(await driver.getContainerCdnUrl!(container));
      expect(['http:', 'https:']).toContain(url.protocol);
    });

    it('deletes an emptied container', async () => {
      for (const name of written) await driver.deleteObject(container, name);
      written.clear();
      await driver.deleteContainer(container);
      check.error(await expectTypedError(driver.getContainer(container), NotFoundError));
      expect((await driver.listContainers()).map((c) => c.name)).not.toContain(container);
    });
  });
}

// --- Internal helpers ---

async function* generate(chunks: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
}

function concat(chunks: Array<string | Uint8Array>): Buffer {
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** Reads a small body; the suite only does this for objects of a few bytes. */
export async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * `total` pseudo-random bytes in 256 KiB chunks (odd-sized last one), hashed as they are made,
 * so neither side of the test holds the object.
 */
function patternStream(total: number): { chunks(): AsyncGenerator<Uint8Array>; md5(): string } {
  const hash = createHash('md5');
  let produced = 0;
  return {
    async *chunks() {
      let x = 0x9e3779b9;
      while (produced < total) {
        const n = Math.min(256 * 1024 - 3, total - produced);
        const chunk = Buffer.allocUnsafe(n);
        for (let i = 0; i < n; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          chunk[i] = x & 0xff;
        }
        hash.update(chunk);
        produced += n;
        yield chunk;
      }
    },
    md5() {
      if (produced !== total) throw new Error(`the upload consumed ${produced} of ${total} bytes`);
      return hash.digest('hex');
    },
  };
}
