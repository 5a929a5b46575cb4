/**
 * Local filesystem storage driver (Libcloud's `local` driver): containers are directories under
 * one root, objects are files, metadata lives in hidden sidecars (see objects.ts).
 *
 * No presigned URLs: the core signs its own short-lived URLs for drivers without them.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  ProviderError,
  SkygraphError,
} from '../errors.ts';
import type { ByteRange, Container, DriverContext, ListObjectsOptions, StorageDriver, StorageObject } from '../types.ts';
import {
  collectNames,
  compareNames,
  containerUsage,
  createKeyedLock,
  pruneEmptyParents,
  readSidecar,
  removeQuietly,
  sidecarPath,
  toObject,
} from './objects.ts';
import {
  DRIVER_NAME,
  META_DIR,
  TMP_PREFIX,
  assertNoLinks,
  checkContainerName,
  containerPath,
  invalid,
  isContainerName,
  isErrno,
  notFound,
  objectSegments,
} from './paths.ts';
import { BodyFailure, writeObject } from './upload.ts';

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 1000;

export interface LocalStorageOptions {
  /** absolute, real (symlink-free) path of the storage root; must exist */
  root: string;
}

export function localStorageDriver(opts: LocalStorageOptions, ctx: Pick<DriverContext, 'recordCall'>): StorageDriver {
  const { root } = opts;
  const withLock = createKeyedLock();

  /** One recorded call; anything untyped that escapes becomes a ProviderError without paths. */
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    ctx.recordCall(operation);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BodyFailure) throw err.cause;
      if (err instanceof SkygraphError) throw err;
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      // why: fs messages carry absolute paths, which do not belong in API errors
      throw new ProviderError(`${operation} failed${code ? ` (${code})` : ''}`, { provider: DRIVER_NAME, cause: err });
    }
  };

  const describeContainer = async (name: string, dir: string): Promise<Container> => {
    const [usage, stats] = await Promise.all([containerUsage(dir), stat(dir)]);
    return { name, ...usage, extra: { lastModified: stats.mtime.toISOString() } };
  };

  /** Opens an object read-only, refusing links, with its stats and sidecar read consistently. */
  const openObject = async (container: string, name: string) => {
    const segments = objectSegments(name);
    const dir = await containerPath(root, container);
    const path = join(dir, ...segments);
    await assertNoLinks(dir, path, 'name');
    return withLock(path, async () => {
      let fh: FileHandle;
      try {
        fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound('object', name);
        if (isErrno(err, 'ELOOP')) throw invalid('name passes through a symbolic link', 'name');
        throw err;
      }
      try {
        const stats = await fh.stat();
        if (!stats.isFile()) throw notFound('object', name);
        const object = toObject(container, name, stats, await readSidecar(sidecarPath(dir, name), stats));
        return { fh, object };
      } catch (err) {
        await fh.close();
        throw err;
      }
    });
  };

  return {
    listContainers: () =>
      call('listContainers', async () => {
        const entries = await readdir(root, { withFileTypes: true });
        const names = entries
          .filter((e) => e.isDirectory() && isContainerName(e.name))
          .map((e) => e.name)
          .sort(compareNames);
        return Promise.all(names.map((name) => describeContainer(name, join(root, name))));
      }),

    getContainer: (name) => call('getContainer', async () => describeContainer(name, await containerPath(root, name))),

    createContainer: (name) =>
      call('createContainer', async () => {
        checkContainerName(name);
        const dir = join(root, name);
        try {
          await mkdir(dir);
        } catch (err) {
          if (isErrno(err, 'EEXIST')) {
            throw new ContainerAlreadyExistsError(`container ${JSON.stringify(name)} already exists`, {
              provider: DRIVER_NAME,
              status: 409,
            });
          }
          throw err;
        }
        return describeContainer(name, dir);
      }),

    deleteContainer: (name) =>
      call('deleteContainer', async () => {
        const dir = await containerPath(root, name);
        const notEmpty = () =>
          new ContainerNotEmptyError(`container ${JSON.stringify(name)} is not empty`, { provider: DRIVER_NAME, status: 409 });
        const names: string[] = [];
        await collectNames(dir, '', names);
        if (names.length > 0) throw notEmpty();
        // why: only the driver's own files and empty folders remain; rmdir() below still
        // refuses if an upload committed in the meantime
        await rm(join(dir, META_DIR), { recursive: true, force: true });
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          if (entry.name.startsWith(TMP_PREFIX)) await removeQuietly(join(dir, entry.name));
          else if (entry.isDirectory()) await removeEmptyTree(join(dir, entry.name));
        }
        try {
          await rmdir(dir);
        } catch (err) {
          if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) throw notEmpty();
          throw err;
        }
      }),

    listObjects: (container, options?: ListObjectsOptions) =>
      call('listObjects', async () => {
        const { prefix = '', cursor, limit = DEFAULT_LIMIT } = options ?? {};
        if (typeof prefix !== 'string') throw invalid('prefix must be a string', 'prefix');
        if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer', 'limit');
        const after = cursor === undefined ? undefined : decodeCursor(cursor);
        const dir = await containerPath(root, container);

        const names: string[] = [];
        const base = prefixDir(prefix);
        if (base === '') await collectNames(dir, '', names);
        else if (await linkFree(dir, join(dir, base))) await collectNames(join(dir, base), base, names);
        const matching = names
          .filter((n) => n.startsWith(prefix) && (after === undefined || compareNames(n, after) > 0))
          .sort(compareNames);
        const page = matching.slice(0, Math.min(limit, MAX_LIMIT));

        const objects: StorageObject[] = [];
        for (const name of page) {
          const path = join(dir, name);
          try {
            const stats = await lstat(path);
            if (!stats.isFile()) continue;
            objects.push(toObject(container, name, stats, await readSidecar(sidecarPath(dir, name), stats)));
          } catch (err) {
            // why: deleted between the walk and now; a listing is a snapshot, skip it
            if (!isErrno(err, 'ENOENT')) throw err;
          }
        }
        const last = page[page.length - 1];
        const more = matching.length > page.length && last !== undefined;
        return { objects, nextCursor: more ? Buffer.from(last, 'utf8').toString('base64url') : null };
      }),

    getObject: (container, name) =>
      call('getObject', async () => {
        const { fh, object } = await openObject(container, name);
        await fh.close();
        return object;
      }),

    uploadObject: (container, name, body, options) =>
      call('uploadObject', async () => {
        const segments = objectSegments(name);
        const dir = await containerPath(root, container);
        const { stats, sidecar } = await writeObject({ containerDir: dir, name, segments, body, opts: options, withLock });
        return toObject(container, name, stats, sidecar);
      }),

    downloadObject: (container, name, range?: ByteRange) =>
      call('downloadObject', async () => {
        const { fh, object } = await openObject(container, name);
        try {
          if (range === undefined) return { object, body: fh.createReadStream() };
          const satisfied = satisfy(range, object.size);
          return { object, body: fh.createReadStream({ start: satisfied.start, end: satisfied.end }), range: satisfied };
        } catch (err) {
          await fh.close();
          throw err;
        }
      }),

    deleteObject: (container, name) =>
      call('deleteObject', async () => {
        const segments = objectSegments(name);
        const dir = await containerPath(root, container);
        const path = join(dir, ...segments);
        await assertNoLinks(dir, path, 'name');
        await withLock(path, async () => {
          try {
            await unlink(path);
          } catch (err) {
            if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) throw notFound('object', name);
            throw err;
          }
          await removeQuietly(sidecarPath(dir, name));
        });
        await pruneEmptyParents(path, dir);
      }),
  };
}

// --- Internal helpers ---

/** The folder part of a prefix, when it is a safe object path; listing can start there. */
function prefixDir(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  if (slash <= 0) return '';
  const dir = prefix.slice(0, slash);
  try {
    objectSegments(dir);
    return dir;
  } catch {
    return '';
  }
}

function decodeCursor(cursor: unknown): string {
  if (typeof cursor === 'string' && cursor !== '') {
    const name = Buffer.from(cursor, 'base64url').toString('utf8');
    if (Buffer.from(name, 'utf8').toString('base64url') === cursor) return name;
  }
  throw invalid('cursor is not one this driver returned', 'cursor');
}

/** The inclusive byte range served for `range` on an object of `total` bytes (HTTP semantics). */
function satisfy(range: ByteRange, total: number): { start: number; end: number; total: number } {
  const { start, end } = range;
  if (!Number.isInteger(start) || start < 0) throw invalid('range.start must be a non-negative integer', 'range');
  if (end !== undefined && (!Number.isInteger(end) || end < start)) {
    throw invalid('range.end must be an integer not below range.start', 'range');
  }
  if (start >= total) throw invalid(`range starts at ${start} but the object has ${total} bytes`, 'range');
  return { start, end: Math.min(end ?? total - 1, total - 1), total };
}

async function linkFree(base: string, path: string): Promise<boolean> {
  try {
    await assertNoLinks(base, path, 'prefix');
    return true;
  } catch (err) {
    if (err instanceof InvalidInputError) return false;
    throw err;
  }
}

/** Removes a folder tree that holds no files, bottom-up; leaves anything non-empty. */
async function removeEmptyTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeEmptyTree(join(dir, entry.name));
  }
  await rmdir(dir).catch(() => undefined);
}
