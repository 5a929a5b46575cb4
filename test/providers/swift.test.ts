/**
 * The swift driver against a real OpenStack Swift all-in-one with tempauth (v1.0 auth), started
 * by scripts/swift-start.sh (test/helpers/swift.ts): conformance, a 200 MiB Static Large Object,
 * segment cleanup on a failing body, TempURLs, and refused credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/providers/errors.ts';
import { swiftProvider } from '../../src/providers/openstack/swift/index.ts';
import type { StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError, uniqueName } from '../conformance/assertions.ts';
import { readAll, testStorageDriver } from '../conformance/storage.ts';
import { testDriverContext, type TestDriverContext } from '../helpers/driver-context.ts';
import { startSwift, type SwiftHandle } from '../helpers/swift.ts';

const MiB = 1024 * 1024;
const TEMP_URL_KEY = 'skygraph-tempurl-key-7d2e';
const WRONG_KEY = 'wrong-auth-key-93be1f';

let swift: SwiftHandle | undefined;
// why: one Swift for the whole file (it takes ~10 s to start)
beforeAll(async () => {
  swift = await startSwift();
  const auth = await fetch(swift.authUrl, { headers: { 'x-auth-user': swift.tester.user, 'x-auth-key': swift.tester.key } });
  const token = auth.headers.get('x-auth-token') ?? '';
  const set = await fetch(swift.storageUrl, { method: 'POST', headers: { 'x-auth-token': token, 'x-account-meta-temp-url-key': TEMP_URL_KEY } });
  if (set.status !== 204) throw new Error(`setting the temp-url key answered ${set.status}`);
});
afterAll(async () => {
  await swift?.stop();
});

function started(): SwiftHandle {
  if (!swift) throw new Error('Swift did not start (see the beforeAll error)');
  return swift;
}

function driverFor(s: SwiftHandle, opts: { key?: string; options?: Record<string, unknown> } = {}) {
  const ctx = testDriverContext({
    driver: 'swift',
    id: `swift-${uniqueName('acct')}`,
    credentials: { auth_url: s.authUrl, username: s.tester.user, password: opts.key ?? s.tester.key },
    options: opts.options ?? {},
  });
  expect(swiftProvider.validate?.(ctx.account)).toEqual([]);
  const instance = swiftProvider.create(ctx);
  return { ctx, driver: instance.storage as StorageDriver, close: () => instance.close?.() ?? Promise.resolve() };
}

testStorageDriver({
  name: 'swift (tempauth, SLO segments of 4 MiB)',
  capabilities: ['getDownloadUrl', 'createUploadUrl'],
  largeObjectBytes: 24 * MiB,
  fetchPresignedUrls: true,
  secrets: ['testing', TEMP_URL_KEY],
  async create() {
    const { driver, close } = driverFor(started(), { options: { tempUrlKey: TEMP_URL_KEY, segmentBytes: 4 * MiB } });
    return { driver, cleanup: close };
  },
});

/** `total` bytes in 1 MiB chunks: one random block, each chunk stamped with its index. */
function pattern(total: number) {
  const block = randomBytes(MiB);
  const chunkAt = (k: number) => {
    const c = Buffer.from(block);
    c.writeUInt32BE(k, 0);
    return c;
  };
  const byteAt = (p: number) => chunkAt(Math.floor(p / MiB))[p % MiB] as number;
  return {
    byteAt,
    slice: (start: number, end: number) => Buffer.from(Array.from({ length: end - start + 1 }, (_, i) => byteAt(start + i))),
    md5() {
      const h = createHash('md5');
      for (let k = 0; k * MiB < total; k++) h.update(chunkAt(k).subarray(0, Math.min(MiB, total - k * MiB)));
      return h.digest('hex');
    },
    async *chunks(failAfter?: number): AsyncGenerator<Uint8Array> {
      for (let k = 0; k * MiB < total; k++) {
        if (failAfter !== undefined && k * MiB >= failAfter) throw new Error('source stream broke');
        yield chunkAt(k).subarray(0, Math.min(MiB, total - k * MiB));
      }
    },
  };
}

describe('swift specifics', () => {
  let s: SwiftHandle;
  let ctx: TestDriverContext;
  let driver: StorageDriver;
  let close: () => Promise<void>;
  const container = uniqueName('sgswift');

  beforeAll(async () => {
    s = started();
    ({ ctx, driver, close } = driverFor(s, { options: { segmentBytes: 32 * MiB, tempUrlKey: TEMP_URL_KEY } }));
    await driver.createContainer(container);
  });
  afterAll(async () => {
    await close?.();
  });

  it('authenticates once (Swift v1.0 tempauth) for many requests', async () => {
    ctx.resetCalls();
    await driver.getContainer(container);
    await driver.listContainers();
    await driver.listObjects(container);
    expect(ctx.calls.get('GET /auth/v1.0') ?? 0).toBeLessThanOrEqual(1);
    const again = driverFor(s);
    await again.driver.listContainers();
    await again.driver.getContainer(container);
    expect(again.ctx.calls.get('GET /auth/v1.0')).toBe(1);
    await again.close();
  });

  it('uploads 200 MiB as a Static Large Object in 32 MiB segments with bounded memory', { timeout: 180_000 }, async () => {
    const total = 200 * MiB;
    const source = pattern(total);
    const expectedMd5 = source.md5();
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);
    let object;
    try {
      object = await driver.uploadObject(container, 'big/slo.bin', source.chunks());
    } finally {
      clearInterval(sampler);
    }
    console.log(`200 MiB SLO upload: RSS growth ${((rssPeak - rssBefore) / MiB).toFixed(1)} MiB`);
    expect(rssPeak - rssBefore).toBeLessThan(100 * 1000 * 1000);
    expect(object).toMatchObject({ size: total, hash: expectedMd5, extra: { segments: 7 } });

    const head = await driver.getObject(container, 'big/slo.bin');
    expect(head.size).toBe(total);
    expect(head.extra.staticLargeObject).toBe(true);
    const segs = await driver.listObjects(`${container}_segments`, { prefix: 'big/slo.bin/' });
    expect(segs.objects.length).toBe(7);
    expect(segs.objects.slice(0, 6).every((o) => o.size === 32 * MiB)).toBe(true);

    const start = 32 * MiB - 10;
    const end = 32 * MiB + 9;
    const ranged = await driver.downloadObject(container, 'big/slo.bin', { start, end });
    expect(ranged.range).toEqual({ start, end, total });
    expect(await readAll(ranged.body)).toEqual(source.slice(start, end));

    await driver.deleteObject(container, 'big/slo.bin');
    expect((await driver.listObjects(`${container}_segments`, { prefix: 'big/slo.bin/' })).objects).toEqual([]);
  });

  it('deletes the uploaded segments when the body fails midway, and rethrows its error', { timeout: 60_000 }, async () => {
    const small = driverFor(s, { options: { segmentBytes: 4 * MiB } });
    const source = pattern(40 * MiB);
    await expect(small.driver.uploadObject(container, 'broken.bin', source.chunks(13 * MiB))).rejects.toThrow('source stream broke');
    expect(small.ctx.calls.get('PUT segment')).toBeGreaterThanOrEqual(3);
    expect((await driver.listObjects(`${container}_segments`, { prefix: 'broken.bin/' })).objects).toEqual([]);
    await expect(driver.getObject(container, 'broken.bin')).rejects.toThrow(/404/);
    await small.close();
  });

  it('deletes the segments of an SLO it replaces, and leaves segments it did not write alone', { timeout: 60_000 }, async () => {
    const small = driverFor(s, { options: { segmentBytes: MiB } });
    const segments = async (prefix: string) => (await driver.listObjects(`${container}_segments`, { prefix })).objects.map((o) => o.name);
    try {
      await small.driver.uploadObject(container, 'dir/over é 100%.bin', pattern(3 * MiB).chunks());
      const first = await segments('dir/over é 100%.bin/');
      expect(first).toHaveLength(3);

      const second = pattern(2 * MiB + 5);
      const replaced = await small.driver.uploadObject(container, 'dir/over é 100%.bin', second.chunks());
      expect(replaced).toMatchObject({ size: 2 * MiB + 5, hash: second.md5(), extra: { segments: 3 } });
      const now = await segments('dir/over é 100%.bin/');
      expect(now).toHaveLength(3);
      expect(now.filter((n) => first.includes(n))).toEqual([]);
      expect(await readAll((await driver.downloadObject(container, 'dir/over é 100%.bin')).body)).toHaveLength(2 * MiB + 5);

      // a manifest made by another tool, pointing at segments outside <name>/slo/
      const auth = await fetch(s.authUrl, { headers: { 'x-auth-user': s.tester.user, 'x-auth-key': s.tester.key } });
      const token = auth.headers.get('x-auth-token') ?? '';
      const segPath = `/${container}_segments/shared/part-1`;
      await driver.uploadObject(`${container}_segments`, 'shared/part-1', pattern(MiB).chunks());
      const manifest = await fetch(`${s.storageUrl}/${container}/foreign.bin?multipart-manifest=put`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify([{ path: segPath }]),
      });
      expect(manifest.status).toBe(201);
      await small.driver.uploadObject(container, 'foreign.bin', pattern(2 * MiB).chunks());
      expect(await segments('shared/')).toEqual(['shared/part-1']);

      // replaced by a plain object: no segments left for the name
      await small.driver.uploadObject(container, 'dir/over é 100%.bin', (async function* () {
        yield Buffer.from('now small');
      })());
      expect(await segments('dir/over é 100%.bin/')).toEqual([]);
      expect((await driver.getObject(container, 'dir/over é 100%.bin')).extra.staticLargeObject).toBeFalsy();
    } finally {
      await small.close();
    }
    await driver.deleteObject(container, 'dir/over é 100%.bin');
    await driver.deleteObject(container, 'foreign.bin');
    await driver.deleteObject(`${container}_segments`, 'shared/part-1');
  });

  it('serves a TempURL to plain fetch, refuses one signed with a wrong key, and reads the key from the account', async () => {
    await driver.uploadObject(container, 'temp/hello world.txt', (async function* () {
      yield Buffer.from('tempurl body');
    })());
    const url = await driver.getDownloadUrl!(container, 'temp/hello world.txt', 60);
    expect(url).not.toContain(TEMP_URL_KEY);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('tempurl body');

    const wrong = driverFor(s, { options: { tempUrlKey: 'not-the-account-key' } });
    const refused = await fetch(await wrong.driver.getDownloadUrl!(container, 'temp/hello world.txt', 60));
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
    await wrong.close();

    const fromAccount = driverFor(s, { options: { tempUrlKeyFromAccount: true, tempUrlDigest: 'sha1' } });
    const res = await fetch(await fromAccount.driver.getDownloadUrl!(container, 'temp/hello world.txt', 60));
    expect(await res.text()).toBe('tempurl body');
    await fromAccount.close();
    await driver.deleteObject(container, 'temp/hello world.txt');
  });

  it('has no TempURL methods without a configured key', () => {
    const plain = driverFor(s);
    expect(plain.driver.getDownloadUrl).toBeUndefined();
    expect(plain.driver.createUploadUrl).toBeUndefined();
  });

  it('refuses a wrong key with an AuthenticationError that does not carry it', async () => {
    const bad = driverFor(s, { key: WRONG_KEY });
    const err = await expectTypedError(bad.driver.listContainers(), AuthenticationError);
    expect(err.message).not.toContain(WRONG_KEY);
    expect(String(err.stack)).not.toContain(WRONG_KEY);
    expect(JSON.stringify(bad.ctx.logs)).not.toContain(WRONG_KEY);
    await bad.close();
  });

  it('deletes its container', async () => {
    await driver.deleteContainer(container);
    await driver.deleteContainer(`${container}_segments`);
  });
});
