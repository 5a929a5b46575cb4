import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  NotFoundError,
} from '../../src/providers/errors.ts';
import { localProvider, resolveStorageRoot } from '../../src/providers/local/index.ts';
import type { StorageDriver } from '../../src/providers/types.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { readAll, testStorageDriver } from '../conformance/storage.ts';
import { testDriverContext } from '../helpers/driver-context.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'skygraph-local-'));

function localDriver(options: Record<string, unknown>) {
  const ctx = testDriverContext({ driver: 'local', options });
  return { ctx, driver: localProvider.create(ctx).storage! };
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await new Promise((r) => setImmediate(r));
    yield Buffer.from(part);
  }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

testStorageDriver({
  name: 'local',
  create: async () => {
    const root = await tempDir();
    return { driver: localDriver({ root }).driver, cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  capabilities: [],
});

describe('local provider', () => {
  let root: string;
  let outside: string;
  let driver: StorageDriver;
  let ctx: ReturnType<typeof localDriver>['ctx'];

  beforeEach(async () => {
    root = await tempDir();
    outside = await tempDir();
    await writeFile(join(outside, 'secret.txt'), 'outside the root');
    ({ ctx, driver } = localDriver({ root }));
    await driver.createContainer('c');
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('is a non-regional storage provider without presigned URLs', () => {
    expect(localProvider).toMatchObject({ name: 'local', services: ['STORAGE'], regional: false });
    expect(driver.getDownloadUrl).toBeUndefined();
    expect(driver.createUploadUrl).toBeUndefined();
  });

  describe('storage root', () => {
    it('validates options without echoing values', () => {
      const validate = (options: Record<string, unknown>) =>
        localProvider.validate!(testDriverContext({ driver: 'local', options }).account);
      expect(validate({})).toEqual([]);
      expect(validate({ root: '/srv/data' })).toEqual([]);
      expect(validate({ root: '' })).toEqual(['options.root must be a non-empty path']);
      expect(validate({ root: 42, bucket: 'x' })).toEqual([
        'options.bucket is not a local option',
        'options.root must be a non-empty path',
      ]);
    });

    it('resolves options.root, then SKYGRAPH_DATA, then ./.skygraph/storage, against the working directory', () => {
      expect(resolveStorageRoot({ root: 'rel/dir' }, { SKYGRAPH_DATA: '/env' }, '/work')).toBe('/work/rel/dir');
      expect(resolveStorageRoot({}, { SKYGRAPH_DATA: '/env/data' }, '/work')).toBe('/env/data');
      expect(resolveStorageRoot({}, { SKYGRAPH_DATA: '' }, '/work')).toBe('/work/.skygraph/storage');
      expect(resolveStorageRoot({}, {}, '/work')).toBe('/work/.skygraph/storage');
    });

    it('uses SKYGRAPH_DATA when options.root is not set, creating it', async () => {
      const data = join(root, 'from-env', 'nested');
      vi.stubEnv('SKYGRAPH_DATA', data);
      const fromEnv = localDriver({}).driver;
      await fromEnv.createContainer('env-container');
      expect(await readdir(data)).toEqual(['env-container']);
      expect(resolve(data)).toBe(data);
    });

    it('prefers options.root over SKYGRAPH_DATA', async () => {
      vi.stubEnv('SKYGRAPH_DATA', join(root, 'ignored'));
      await localDriver({ root: join(root, 'chosen') }).driver.createContainer('x');
      expect(await readdir(join(root, 'chosen'))).toEqual(['x']);
      expect((await readdir(root)).includes('ignored')).toBe(false);
    });
  });

  describe('names', () => {
    it.each(['', '.', '..', 'a/b', 'a\\b', 'has space', 'nul\0', '.skygraph-trash', 'x'.repeat(256)])(
      'rejects container name %j',
      async (name) => {
        await expectTypedError(driver.createContainer(name), InvalidInputError, 'container');
        await expectTypedError(driver.getContainer(name), InvalidInputError, 'container');
        await expectTypedError(driver.uploadObject(name, 'o', chunks('x')), InvalidInputError, 'container');
      },
    );

    it.each([
      '../x',
      '../../x',
      '/etc/passwd',
      'a/../../b',
      'a/..',
      'a\0b',
      'a\\..\\b',
      'a//b',
      'a/',
      '.',
      'a/./b',
      '',
      '.skygraph-meta/x',
      '.skygraph-tmp-1234',
      `${'x'.repeat(256)}/y`,
    ])('rejects object name %j everywhere', async (name) => {
      await expectTypedError(driver.uploadObject('c', name, chunks('evil')), InvalidInputError, 'name');
      await expectTypedError(driver.getObject('c', name), InvalidInputError, 'name');
      await expectTypedError(driver.downloadObject('c', name), InvalidInputError, 'name');
      await expectTypedError(driver.deleteObject('c', name), InvalidInputError, 'name');
      expect(await readdir(root)).toEqual(['c']);
      expect(await readdir(join(root, 'c'))).toEqual([]);
    });

    it('refuses an existing container, and deletes only empty ones', async () => {
      await expectTypedError(driver.createContainer('c'), ContainerAlreadyExistsError);
      await driver.uploadObject('c', 'deep/er/file', chunks('x'));
      await expectTypedError(driver.deleteContainer('c'), ContainerNotEmptyError);
      await driver.deleteObject('c', 'deep/er/file');
      await writeFile(join(root, 'c', '.skygraph-tmp-left-by-a-crash'), 'partial');
      await driver.deleteContainer('c');
      expect(await readdir(root)).toEqual([]);
    });
  });

  describe('symbolic links', () => {
    it('rejects object paths through a link that points outside', async () => {
      await symlink(outside, join(root, 'c', 'out'));
      await symlink(join(outside, 'secret.txt'), join(root, 'c', 'link.txt'));
      for (const name of ['out/secret.txt', 'link.txt']) {
        await expectTypedError(driver.getObject('c', name), InvalidInputError, 'name');
        await expectTypedError(driver.downloadObject('c', name), InvalidInputError, 'name');
        await expectTypedError(driver.deleteObject('c', name), InvalidInputError, 'name');
      }
      await expectTypedError(driver.uploadObject('c', 'out/planted.txt', chunks('x')), InvalidInputError, 'name');
      expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('outside the root');
      expect((await driver.listObjects('c')).objects).toEqual([]);
      expect((await driver.listObjects('c', { prefix: 'out/' })).objects).toEqual([]);
    });

    it('rejects links inside the container too, and dangling ones', async () => {
      await driver.uploadObject('c', 'real/file.txt', chunks('inside'));
      await symlink(join(root, 'c', 'real'), join(root, 'c', 'alias'));
      await expectTypedError(driver.getObject('c', 'alias/file.txt'), InvalidInputError, 'name');
      await symlink(join(outside, 'not-yet'), join(root, 'c', 'dangling'));
      await expectTypedError(driver.uploadObject('c', 'dangling/x', chunks('x')), InvalidInputError, 'name');
      await expectTypedError(driver.uploadObject('c', 'dangling', chunks('x')), InvalidInputError, 'name');
      expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
    });

    it('does not take a plain file in the root for a container', async () => {
      await writeFile(join(root, 'stray'), 'not a folder');
      await expectTypedError(driver.getContainer('stray'), NotFoundError);
      await expectTypedError(driver.listObjects('stray'), NotFoundError);
      await expectTypedError(driver.createContainer('stray'), ContainerAlreadyExistsError);
      expect((await driver.listContainers()).map((c) => c.name)).toEqual(['c']);
    });

    it('rejects a container that is a link', async () => {
      await symlink(outside, join(root, 'evil'));
      await expectTypedError(driver.getContainer('evil'), InvalidInputError, 'container');
      await expectTypedError(driver.getObject('evil', 'secret.txt'), InvalidInputError, 'container');
      expect((await driver.listContainers()).map((c) => c.name)).toEqual(['c']);
    });
  });

  describe('atomic writes', () => {
    const failing = async function* (): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(64 * 1024, 1);
      await new Promise((r) => setImmediate(r));
      throw new Error('client went away');
    };
    const entries = async () => (await readdir(join(root, 'c'))).filter((e) => e !== '.skygraph-meta');

    it('leaves no object and no temp file when the body throws midway', async () => {
      await expect(driver.uploadObject('c', 'never', failing())).rejects.toThrow('client went away');
      await expectTypedError(driver.getObject('c', 'never'), NotFoundError);
      expect(await entries()).toEqual([]);
    });

    it('keeps the previous version when an overwrite fails', async () => {
      await driver.uploadObject('c', 'kept', chunks('version one'), { contentType: 'text/plain' });
      await expect(driver.uploadObject('c', 'kept', failing())).rejects.toThrow('client went away');
      const kept = await driver.getObject('c', 'kept');
      expect(kept).toMatchObject({ size: 11, hash: md5('version one'), contentType: 'text/plain' });
      expect(await entries()).toEqual(['kept']);
    });

    it('rejects a body whose length differs from size, or that yields non-bytes', async () => {
      await expectTypedError(driver.uploadObject('c', 'sized', chunks('12345'), { size: 4 }), InvalidInputError, 'size');
      const strings = (async function* () {
        yield 'text' as unknown as Uint8Array;
      })();
      await expectTypedError(driver.uploadObject('c', 'typed', strings), InvalidInputError, 'body');
      expect(await entries()).toEqual([]);
    });

    it('keeps each object whole under concurrent uploads of one name', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => Array.from({ length: 4 }, (_, j) => `writer ${i} part ${j};`));
      await Promise.all(bodies.map((parts) => driver.uploadObject('c', 'contended', chunks(...parts))));
      const download = await driver.downloadObject('c', 'contended');
      const content = (await readAll(download.body)).toString();
      expect(bodies.map((parts) => parts.join(''))).toContain(content);
      expect(download.object.hash).toBe(md5(content));
      expect(await entries()).toEqual(['contended']);
    });

    it('refuses names where an object and a folder would collide', async () => {
      await driver.uploadObject('c', 'a', chunks('file'));
      await expectTypedError(driver.uploadObject('c', 'a/b', chunks('x')), ConflictError);
      await driver.uploadObject('c', 'd/e', chunks('x'));
      await expectTypedError(driver.uploadObject('c', 'd', chunks('x')), ConflictError);
      expect(await entries()).toEqual(['a', 'd']);
    });
  });

  describe('objects on disk', () => {
    it('keeps metadata in hidden sidecars that listings do not show', async () => {
      await driver.uploadObject('c', 'x/y.txt', chunks('hello'), { contentType: 'text/plain', metadata: { k: 'v' } });
      expect((await readdir(join(root, 'c'))).sort()).toEqual(['.skygraph-meta', 'x']);
      expect(await readFile(join(root, 'c', 'x', 'y.txt'), 'utf8')).toBe('hello');
      expect((await driver.listObjects('c')).objects.map((o) => o.name)).toEqual(['x/y.txt']);
      expect(await driver.getContainer('c')).toMatchObject({ objectCount: 1, bytes: 5 });
    });

    it('ignores a sidecar once the file was changed behind its back, and lists plain files', async () => {
      await driver.uploadObject('c', 'changed', chunks('original'), { contentType: 'text/plain', metadata: { k: 'v' } });
      await writeFile(join(root, 'c', 'changed'), 'edited by hand');
      expect(await driver.getObject('c', 'changed')).toMatchObject({ size: 14, hash: null, contentType: null, metadata: {} });
      await mkdir(join(root, 'c', 'dropped', 'in'), { recursive: true });
      await writeFile(join(root, 'c', 'dropped', 'in', 'file'), 'abc');
      expect((await driver.listObjects('c')).objects.map((o) => [o.name, o.size])).toEqual([
        ['changed', 14],
        ['dropped/in/file', 3],
      ]);
    });

    it('removes emptied folders on delete', async () => {
      await driver.uploadObject('c', 'p/q/r', chunks('x'));
      await driver.uploadObject('c', 'p/keep', chunks('x'));
      await driver.deleteObject('c', 'p/q/r');
      expect(await readdir(join(root, 'c', 'p'))).toEqual(['keep']);
      await expectTypedError(driver.deleteObject('c', 'p/q/r'), NotFoundError);
      await expectTypedError(driver.deleteObject('c', 'p'), NotFoundError);
    });

    it('rejects unsatisfiable ranges (HTTP 416) and clamps ends past the last byte', async () => {
      await driver.uploadObject('c', 'ten', chunks('0123456789'));
      await driver.uploadObject('c', 'empty', chunks());
      const clamped = await driver.downloadObject('c', 'ten', { start: 7, end: 100 });
      expect((await readAll(clamped.body)).toString()).toBe('789');
      expect(clamped.range).toEqual({ start: 7, end: 9, total: 10 });
      for (const [name, range] of [
        ['ten', { start: 10 }],
        ['ten', { start: 5, end: 4 }],
        ['ten', { start: -1 }],
        ['empty', { start: 0 }],
      ] as const) {
        await expectTypedError(driver.downloadObject('c', name, range), InvalidInputError, 'range');
      }
    });

    it('validates list options', async () => {
      await expectTypedError(driver.listObjects('c', { cursor: 'not!base64url' }), InvalidInputError, 'cursor');
      await expectTypedError(driver.listObjects('c', { limit: 0 }), InvalidInputError, 'limit');
      await expectTypedError(driver.listObjects('c', { limit: 1.5 }), InvalidInputError, 'limit');
    });

    it('keeps the storage root out of error messages', async () => {
      const errors = await Promise.all([
        driver.getObject('c', 'missing').catch((e: Error) => e),
        driver.getContainer('missing').catch((e: Error) => e),
        driver.uploadObject('c', '../x', chunks('x')).catch((e: Error) => e),
      ]);
      for (const err of errors) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).not.toContain(root);
      }
    });
  });

  it('records exactly one call per operation, failed calls included', async () => {
    const ops: Array<[string, () => Promise<unknown>]> = [
      ['listContainers', () => driver.listContainers()],
      ['getContainer', () => driver.getContainer('nope')],
      ['createContainer', () => driver.createContainer('d')],
      ['uploadObject', () => driver.uploadObject('d', 'o', chunks('a', 'b'))],
      ['listObjects', () => driver.listObjects('d')],
      ['getObject', () => driver.getObject('d', 'o')],
      ['downloadObject', () => driver.downloadObject('d', 'o').then((d) => readAll(d.body))],
      ['deleteObject', () => driver.deleteObject('d', 'o')],
      ['deleteContainer', () => driver.deleteContainer('d')],
    ];
    for (const [operation, call] of ops) {
      ctx.resetCalls();
      await call().catch(() => undefined);
      expect(Object.fromEntries(ctx.calls), operation).toEqual({ [operation]: 1 });
    }
  });
});
