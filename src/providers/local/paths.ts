/**
 * Name rules and path resolution for the local storage driver. Every path handed to fs comes
 * from here: names are checked segment by segment, and the resolved path must be exactly the
 * path built from the names (no symbolic link anywhere below the storage root).
 */
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { InvalidInputError, NotFoundError } from '../errors.ts';

export const DRIVER_NAME = 'local';

/** First-segment prefix reserved for the driver's own files inside a container. */
export const RESERVED_PREFIX = '.skygraph';
/** Per-container directory holding one JSON sidecar per object. */
export const META_DIR = `${RESERVED_PREFIX}-meta`;
/** Temp files of uploads in progress, beside the objects so rename() stays atomic. */
export const TMP_PREFIX = `${RESERVED_PREFIX}-tmp-`;

const CONTAINER_NAME = /^[A-Za-z0-9._-]{1,255}$/;
const MAX_OBJECT_NAME_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

/** Throws InvalidInputError (field `container`) unless `name` is one safe path segment. */
export function checkContainerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !isContainerName(name)) {
    throw invalid(
      `container names are 1-255 characters of A-Z a-z 0-9 . _ -, not "." or "..", and not starting with ${RESERVED_PREFIX}`,
      'container',
    );
  }
}

export function isContainerName(name: string): boolean {
  return CONTAINER_NAME.test(name) && name !== '.' && name !== '..' && !name.startsWith(RESERVED_PREFIX);
}

/** The path segments of an object name; throws InvalidInputError (field `name`) when unsafe. */
export function objectSegments(name: unknown, field = 'name'): string[] {
  if (typeof name !== 'string' || name === '') throw invalid('object name must not be empty', field);
  if (Buffer.byteLength(name) > MAX_OBJECT_NAME_BYTES) {
    throw invalid(`object name must be at most ${MAX_OBJECT_NAME_BYTES} bytes`, field);
  }
  if (name.includes('\0')) throw invalid('object name must not contain NUL', field);
  if (name.includes('\\')) throw invalid('object name must not contain a backslash', field);
  if (name.startsWith('/')) throw invalid('object name must not be an absolute path', field);
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '') throw invalid('object name must not contain empty segments ("//" or a trailing "/")', field);
    if (segment === '.' || segment === '..') throw invalid('object name must not contain "." or ".." segments', field);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw invalid(`each "/"-separated part of an object name must be at most ${MAX_SEGMENT_BYTES} bytes`, field);
    }
  }
  if (segments[0]!.startsWith(RESERVED_PREFIX)) throw invalid(`object names must not start with ${RESERVED_PREFIX}`, field);
  return segments;
}

/** The real path of an existing container directory under `root` (itself a real path). */
export async function containerPath(root: string, name: string): Promise<string> {
  checkContainerName(name);
  const path = join(root, name);
  const real = await realpathOrUndefined(path);
  if (real === undefined) throw notFound('container', name);
  if (real !== path) throw invalid(`container ${JSON.stringify(name)} resolves outside its place in the storage root`, 'container');
  if (!(await lstat(path)).isDirectory()) throw notFound('container', name);
  return path;
}

/**
 * Checks that the deepest existing ancestor of `path` (or `path` itself) resolves to itself, so
 * reads and writes below `base` cannot be redirected by a symbolic link.
 */
export async function assertNoLinks(base: string, path: string, field: string): Promise<void> {
  let probe = path;
  while (probe.startsWith(base + sep) || probe === base) {
    const real = await realpathOrUndefined(probe);
    if (real !== undefined) {
      if (real === probe) return;
      const outside = !(real === base || real.startsWith(base + sep));
      throw invalid(
        outside ? `${field} resolves outside its container` : `${field} passes through a symbolic link`,
        field,
      );
    }
    // why: realpath() reports a dangling link as missing; lstat() sees the link itself
    if (await exists(probe)) throw invalid(`${field} passes through a symbolic link`, field);
    probe = dirname(probe);
  }
  throw invalid(`${field} resolves outside its container`, field);
}

export function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field, status: 400 });
}

export function notFound(kind: 'container' | 'object', name: string): NotFoundError {
  return new NotFoundError(`${kind} ${JSON.stringify(name)} not found`, { provider: DRIVER_NAME, status: 404 });
}

// --- Internal helpers ---

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
