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
import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../errors.ts';
import { bodySource, fillBuffer, readChunks, type BodySource, type Chunks } from '../../storage/body-source.ts';
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
  const reader = bodySource(body, { provider: DRIVER_NAME, expectedSize: size });
  const target = { container, blob };
  try {
    const first = await readChunks(reader, blockSize);
    let res;
    if (first.length < blockSize || (await reader.atEnd())) {
      const whole = first.chunks.length === 1 ? first.chunks[0]! : Buffer.concat(first.chunks, first.length);
      res = await ctx.client.request({
        operation: 'PutBlob',
        method: 'PUT',
        ...target,
        headers: { ...headers, 'x-ms-blob-type': 'BlockBlob', 'content-md5': md5Base64(reader) },
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
      hash: reader.md5(),
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

async function stageAndCommit(ctx: UploadContext, target: Target, headers: Record<string, string>, reader: BodySource, first: Chunks, blockSize: number) {
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
    length = await fillBuffer(reader, buffer);
  }
  const list = ids.map((id) => `<Latest>${id}</Latest>`).join('');
  return ctx.client.request({
    operation: 'PutBlockList',
    method: 'PUT',
    ...target,
    query: { comp: 'blocklist' },
    headers: { ...headers, 'content-type': 'application/xml', 'x-ms-blob-content-md5': md5Base64(reader) },
    body: `<?xml version="1.0" encoding="utf-8"?><BlockList>${list}</BlockList>`,
    expect: [201],
    responseType: 'none',
  });
}

function checkSize(size: unknown): number | undefined {
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid('size must be a non-negative integer', 'size');
  return size;
}

function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The body's MD5 as Content-MD5 wants it; the body has ended. */
function md5Base64(reader: BodySource): string {
  return Buffer.from(reader.md5() ?? '', 'hex').toString('base64');
}
