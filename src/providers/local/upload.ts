/**
 * Atomic, streaming object writes: the body goes to a hidden temp file in the container while
 * its MD5 is computed, is fsynced, then renamed over the target. Readers see the old object or
 * the new one, never a part; a failed upload leaves neither an object nor a temp file.
 */
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ConflictError } from '../errors.ts';
import type { UploadOptions } from '../types.ts';
import {
  removeQuietly,
  renameCreatingParents,
  sidecarPath,
  stageSidecar,
  syncDir,
  type Sidecar,
} from './objects.ts';
import { DRIVER_NAME, TMP_PREFIX, assertNoLinks, invalid, isErrno } from './paths.ts';

/** An error thrown by the caller's body iterable, passed back to the caller unchanged. */
export class BodyFailure {
  constructor(readonly cause: unknown) {}
}

export interface WriteRequest {
  containerDir: string;
  name: string;
  segments: readonly string[];
  body: AsyncIterable<Uint8Array>;
  opts: UploadOptions | undefined;
  withLock: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
}

export async function writeObject(req: WriteRequest): Promise<{ stats: Stats; sidecar: Sidecar }> {
  const { containerDir, name, opts } = req;
  const path = join(containerDir, ...req.segments);
  await assertNoLinks(containerDir, path, 'name');
  checkMetadata(opts);

  const tmp = join(containerDir, `${TMP_PREFIX}${randomUUID()}`);
  const fh = await open(tmp, 'wx');
  let stats: Stats;
  const md5 = createHash('md5');
  try {
    await copyBody(req.body, fh, md5);
    await fh.sync();
    stats = await fh.stat();
    if (opts?.size !== undefined && stats.size !== opts.size) {
      throw invalid(`body was ${stats.size} bytes, but size said ${opts.size}`, 'size');
    }
  } catch (err) {
    await fh.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw err;
  }
  await fh.close();

  const sidecar: Sidecar = {
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    md5: md5.digest('hex'),
    contentType: opts?.contentType ?? null,
    metadata: { ...opts?.metadata },
  };
  try {
    await req.withLock(path, async () => {
      await assertNoLinks(containerDir, dirname(path), 'name');
      const staged = await stageSidecar(containerDir, sidecarPath(containerDir, name), sidecar);
      try {
        await renameCreatingParents(tmp, path);
      } catch (err) {
        await staged.discard();
        throw err;
      }
      await staged.commit();
      await syncDir(dirname(path));
    });
  } catch (err) {
    await removeQuietly(tmp);
    throw toConflict(err, name);
  }
  return { stats, sidecar };
}

// --- Internal helpers ---

async function copyBody(body: AsyncIterable<Uint8Array>, fh: FileHandle, md5: ReturnType<typeof createHash>) {
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    let step: IteratorResult<Uint8Array>;
    try {
      step = await iterator.next();
    } catch (err) {
      throw new BodyFailure(err);
    }
    if (step.done) return;
    const chunk: unknown = step.value;
    if (!(chunk instanceof Uint8Array)) {
      await iterator.return?.();
      throw invalid('the upload body must yield Uint8Array chunks', 'body');
    }
    md5.update(chunk);
    for (let offset = 0; offset < chunk.byteLength; ) {
      const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
  }
}

function checkMetadata(opts: UploadOptions | undefined): void {
  if (opts?.contentType !== undefined && (typeof opts.contentType !== 'string' || /[\r\n]/.test(opts.contentType))) {
    throw invalid('contentType must be a single-line string', 'contentType');
  }
  for (const [key, value] of Object.entries(opts?.metadata ?? {})) {
    if (typeof value !== 'string') throw invalid(`metadata.${key} must be a string`, `metadata.${key}`);
  }
}

/** mkdir/rename failures that mean "a file and a folder want the same name". */
function toConflict(err: unknown, name: string): unknown {
  if (isErrno(err, 'EEXIST') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) {
    return new ConflictError(
      `object ${JSON.stringify(name)} clashes with an existing object: a name cannot be both an object and a folder of objects`,
      { provider: DRIVER_NAME, status: 409, cause: err },
    );
  }
  return err;
}
