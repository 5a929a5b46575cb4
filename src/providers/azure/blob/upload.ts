/**
 * Streaming uploads as block blobs, holding at most one block (and the caller's current chunk)
 * in memory.
 *
 * - A body that ends within one block goes up as one Put Blob with Content-MD5, which the
 *   service checks and keeps as the blob's MD5.
 * - Anything larger is staged block by block (Put Block, one at a time into one reused buffer)
 *   and committed with Put Block List, which also sets the content type, the metadata and
 *   x-ms-blob-content-md5 (the MD5 of the whole body, computed on the way through; Azure does
 *   not compute one for a committed block list).
 *
 * Nothing is committed until Put Block List, so a failed upload leaves no new blob (and an
 * existing blob of that name unchanged). The service discards uncommitted blocks after a week;
 * there is no call to drop them sooner.
 *
 * https://learn.microsoft.com/rest/api/storageservices/put-blob
 * https://learn.microsoft.com/rest/api/storageservices/put-block
 * https://learn.microsoft.com/rest/api/storageservices/put-block-list
 */
import { createHash, randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../errors.ts';
import type { StorageObject, UploadOptions } from '../../types.ts';
import type { AzureBlobClient } from './client.ts';
import { DRIVER_NAME } from './errors.ts';
import { blobHeaders, unquote } from './mappers.ts';

/** Azure limits (x-ms-version 2019-12-12 and later): 50,000 committed blocks of up to 4000 MiB. */
export const MAX_BLOCKS = 50_000;
export const MAX_BLOCK_BYTES = 4000 * 1024 * 1024;
export const MIN_BLOCK_BYTES = 64 * 1024;

/** What an upload needs besides its arguments. */
export interface UploadContext {
  client: AzureBlobClient;
  /** bodies up to this go as one Put Blob; larger ones in blocks of this size */
  blockSizeBytes: number;
}

export async function uploadBlob(
  ctx: UploadContext,
  container: string,
  blob: string,
  body: AsyncIterable<Uint8Array>,
  opts: UploadOptions | undefined,
): Promise<StorageObject> {
  const { headers, metadata, contentType } = blobHeaders(opts);
  const size = checkSize(opts?.size);
  const blockSize = size === undefined ? ctx.blockSizeBytes : Math.max(ctx.blockSizeBytes, Math.ceil(size / MAX_BLOCKS));
  if (blockSize > MAX_BLOCK_BYTES) throw invalid('size is over the Azure block blob limit', 'size');
  const reader = bodyReader(body, size);
  const target = { container, blob };
  try {
    const first = await reader.read(blockSize);
    let res;
    if (first.length < blockSize || (await reader.ended())) {
      const whole = first.chunks.length === 1 ? first.chunks[0]! : Buffer.concat(first.chunks, first.length);
      res = await ctx.client.request({
        operation: 'PutBlob',
        method: 'PUT',
        ...target,
        headers: { ...headers, 'x-ms-blob-type': 'BlockBlob', 'content-md5': reader.md5().toString('base64') },
        body: whole,
        expect: [201],
        responseType: 'none',
      });
    } else {
      res = await stageAndCommit(ctx, target, headers, reader, first, blockSize);
    }
    return {
      container,
      name: blob,
      size: reader.total,
      hash: reader.md5().toString('hex'),
      contentType,
      lastModified: parseDate(res.headers['last-modified']),
      metadata,
      extra: unquote(res.headers['etag']) === null ? {} : { etag: unquote(res.headers['etag']) },
    };
  } catch (err) {
    await reader.cancel();
    // why: the caller's own stream failure goes back unchanged, not as an upload error
    throw reader.failure ? reader.failure.cause : err;
  }
}

// --- Internal helpers ---

type Target = { container: string; blob: string };
type Block = { chunks: Uint8Array[]; length: number };

async function stageAndCommit(ctx: UploadContext, target: Target, headers: Record<string, string>, reader: BodyReader, first: Block, blockSize: number) {
  // why: every block id of a blob must have the same length; a per-upload tag keeps concurrent uploads of one name apart
  const tag = randomBytes(6).toString('hex');
  const ids: string[] = [];
  const buffer = Buffer.allocUnsafe(blockSize);
  let offset = 0;
  // why: drop each chunk as it is copied, so the first block is not held twice
  for (let chunk = first.chunks.shift(); chunk !== undefined; chunk = first.chunks.shift()) {
    buffer.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let length = first.length;
  while (length > 0) {
    if (ids.length >= MAX_BLOCKS) throw invalid(`the body needs more than ${MAX_BLOCKS} blocks of ${blockSize} bytes; raise options.blockSizeBytes or pass the size`, 'body');
    const id = Buffer.from(`${tag}-${String(ids.length).padStart(6, '0')}`).toString('base64');
    await ctx.client.request({
      operation: 'PutBlock',
      method: 'PUT',
      ...target,
      query: { comp: 'block', blockid: id },
      body: buffer.subarray(0, length),
      expect: [201],
      responseType: 'none',
    });
    ids.push(id);
    length = await reader.fill(buffer);
  }
  const list = ids.map((id) => `<Latest>${id}</Latest>`).join('');
  return ctx.client.request({
    operation: 'PutBlockList',
    method: 'PUT',
    ...target,
    query: { comp: 'blocklist' },
    headers: { ...headers, 'content-type': 'application/xml', 'x-ms-blob-content-md5': reader.md5().toString('base64') },
    body: `<?xml version="1.0" encoding="utf-8"?><BlockList>${list}</BlockList>`,
    expect: [201],
    responseType: 'none',
  });
}

interface BodyReader {
  /** the next chunks, at most `max` bytes in all (fewer only at the end of the body) */
  read(max: number): Promise<Block>;
  /** fills `buffer` from the body; how many bytes it now holds */
  fill(buffer: Buffer): Promise<number>;
  /** true when the body has no more bytes (reads ahead one chunk to know) */
  ended(): Promise<boolean>;
  readonly total: number;
  /** the MD5 of everything read; final once the body has ended */
  md5(): Buffer;
  readonly failure: { cause: unknown } | undefined;
  cancel(): Promise<void>;
}

/** Pull-based reading of the caller's iterable: bounded reads, byte count, MD5, size check. */
function bodyReader(body: AsyncIterable<Uint8Array>, expectedSize: number | undefined): BodyReader {
  const iterator = body[Symbol.asyncIterator]();
  const hash = createHash('md5');
  let pending: Uint8Array | null = null;
  let done = false;
  let total = 0;
  let digest: Buffer | undefined;
  let failure: { cause: unknown } | undefined;

  const pull = async (): Promise<Uint8Array | null> => {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (err) {
        failure = { cause: err };
        throw err;
      }
      if (step.done) {
        done = true;
        if (expectedSize !== undefined && total !== expectedSize) throw sizeMismatch(total, expectedSize);
        return null;
      }
      const chunk: unknown = step.value;
      if (!(chunk instanceof Uint8Array)) throw invalid('the upload body must yield Uint8Array chunks', 'body');
      if (chunk.byteLength === 0) continue;
      total += chunk.byteLength;
      if (expectedSize !== undefined && total > expectedSize) throw sizeMismatch(total, expectedSize);
      hash.update(chunk);
      return chunk;
    }
  };
  const next = async (max: number): Promise<Uint8Array | null> => {
    if (pending === null) {
      if (done) return null;
      pending = await pull();
      if (pending === null) return null;
    }
    const chunk = pending.byteLength <= max ? pending : pending.subarray(0, max);
    pending = chunk === pending ? null : pending.subarray(max);
    return chunk;
  };

  return {
    async read(max) {
      const chunks: Uint8Array[] = [];
      let length = 0;
      while (length < max) {
        const chunk = await next(max - length);
        if (chunk === null) break;
        chunks.push(chunk);
        length += chunk.byteLength;
      }
      return { chunks, length };
    },
    async fill(buffer) {
      let length = 0;
      while (length < buffer.length) {
        const chunk = await next(buffer.length - length);
        if (chunk === null) break;
        buffer.set(chunk, length);
        length += chunk.byteLength;
      }
      return length;
    },
    async ended() {
      if (pending !== null) return false;
      if (done) return true;
      pending = await pull();
      return pending === null;
    },
    get total() {
      return total;
    },
    md5: () => (digest ??= hash.digest()),
    get failure() {
      return failure;
    },
    async cancel() {
      if (done) return;
      done = true;
      pending = null;
      await Promise.resolve(iterator.return?.()).catch(() => undefined);
    },
  };
}

function checkSize(size: unknown): number | undefined {
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid('size must be a non-negative integer', 'size');
  return size;
}

function sizeMismatch(actual: number, expected: number): InvalidInputError {
  const what = actual > expected ? `more than ${expected} bytes` : `${actual} bytes`;
  return invalid(`the body was ${what}, but size said ${expected}`, 'size');
}

function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
