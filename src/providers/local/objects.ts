/**
 * On-disk layout of one container:
 *
 *   <container>/<name...>                     object bytes (names with "/" are nested directories)
 *   <container>/.skygraph-meta/<sha256(name)>.json  sidecar: content type, user metadata, md5
 *   <container>/.skygraph-tmp-<uuid>          uploads in progress
 *
 * A sidecar records the size and mtime of the bytes it describes; when they no longer match
 * (the file was replaced behind the driver's back) the sidecar is ignored.
 */
import { lstat, mkdir, open, readFile, readdir, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { StorageObject } from '../types.ts';
import { META_DIR, RESERVED_PREFIX, TMP_PREFIX, isErrno } from './paths.ts';

/** What the sidecar JSON holds. */
export interface Sidecar {
  size: number;
  mtimeMs: number;
  md5: string;
  contentType: string | null;
  metadata: Record<string, string>;
}

/** Flat and hashed, so sidecar names never collide with each other or hit NAME_MAX. */
export function sidecarPath(container: string, name: string): string {
  return join(container, META_DIR, `${createHash('sha256').update(name).digest('hex')}.json`);
}

/** The sidecar for a file with these stats, or undefined when missing, unreadable or stale. */
export async function readSidecar(path: string, stats: Stats): Promise<Sidecar | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const s = parsed as Partial<Sidecar>;
  if (s.size !== stats.size || s.mtimeMs !== stats.mtimeMs || typeof s.md5 !== 'string') return undefined;
  const metadata: Record<string, string> = {};
  if (typeof s.metadata === 'object' && s.metadata !== null) {
    for (const [k, v] of Object.entries(s.metadata)) if (typeof v === 'string') metadata[k] = v;
  }
  const contentType = typeof s.contentType === 'string' ? s.contentType : null;
  return { size: s.size, mtimeMs: s.mtimeMs, md5: s.md5, contentType, metadata };
}

/** Writes the sidecar to a temp file (fsynced) and returns a function that renames it into place. */
export async function stageSidecar(
  containerDir: string,
  path: string,
  sidecar: Sidecar,
): Promise<{ commit(): Promise<void>; discard(): Promise<void> }> {
  const metaRoot = join(containerDir, META_DIR);
  await mkdir(metaRoot, { recursive: true });
  const tmp = join(metaRoot, `${TMP_PREFIX}${randomUUID()}`);
  await writeSynced(tmp, JSON.stringify(sidecar));
  return {
    commit: () => rename(tmp, path),
    discard: () => removeQuietly(tmp),
  };
}

export function toObject(container: string, name: string, stats: Stats, sidecar: Sidecar | undefined): StorageObject {
  return {
    container,
    name,
    size: stats.size,
    hash: sidecar?.md5 ?? null,
    contentType: sidecar?.contentType ?? null,
    lastModified: new Date(stats.mtimeMs),
    metadata: { ...sidecar?.metadata },
    extra: {},
  };
}

/**
 * Names of every object (regular file) under `dir`, which is `relative` inside the container.
 * Skips the driver's own entries at the top, symbolic links and anything not a file.
 */
export async function collectNames(dir: string, relative: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
    throw err;
  }
  for (const entry of entries) {
    if (relative === '' && entry.name.startsWith(RESERVED_PREFIX)) continue;
    const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isFile()) out.push(name);
    else if (entry.isDirectory()) await collectNames(join(dir, entry.name), name, out);
  }
}

/** Object count and total bytes of a container. */
export async function containerUsage(dir: string): Promise<{ objectCount: number; bytes: number }> {
  const names: string[] = [];
  await collectNames(dir, '', names);
  let bytes = 0;
  for (const name of names) {
    try {
      bytes += (await lstat(join(dir, name))).size;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return { objectCount: names.length, bytes };
}

/** UTF-8 byte order, the order S3 and Swift list in. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** rename(), creating the target's parent directories; retries when a concurrent delete prunes them. */
export async function renameCreatingParents(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || attempt >= 3) throw err;
    }
  }
}

/** Removes empty directories from dirname(path) up to, not including, `stop`. */
export async function pruneEmptyParents(path: string, stop: string): Promise<void> {
  for (let dir = dirname(path); dir.length > stop.length && dir.startsWith(stop); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

/** fsync of a directory, so a rename inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // why: some filesystems refuse fsync on directories; the rename itself is still atomic
  } finally {
    await fh?.close();
  }
}

/** Serialises async sections per key (one object name), within this process. */
export function createKeyedLock(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<void>>();
  return async (key, fn) => {
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => gate);
    tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

// --- Internal helpers ---

async function writeSynced(path: string, data: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
