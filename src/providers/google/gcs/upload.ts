/**
 * Streamed uploads to Cloud Storage. A body that fits in one chunk (`chunkSizeBytes`, a multiple of
 * 256 KiB) goes up as one multipart request, metadata and bytes together with their MD5 for Cloud
 * Storage to check; a longer one through a resumable upload session, one chunk per request. Memory
 * holds one chunk (plus the caller's current chunk, read ahead to learn where the body ends). When
 * Cloud Storage persisted less than a chunk (308 with a shorter Range) the rest is sent again.
 *
 * https://cloud.google.com/storage/docs/uploading-objects#uploading-an-object (multipart)
 * https://cloud.google.com/storage/docs/performing-resumable-uploads#chunked-upload
 */
import { randomBytes } from 'node:crypto';
import { InvalidInputError, MalformedResponseError, ProviderError, SkygraphError } from '../../errors.ts';
import { bodySource, fillBuffer, sizeMismatch, type BodySource } from '../../storage/body-source.ts';
import type { Logger, StorageObject, UploadOptions } from '../../types.ts';
import type { GoogleClient } from '../client.ts';
import { obj, type Json } from '../json.ts';
import { toObject } from './mappers.ts';

/** Cloud Storage's chunk granularity: every chunk but the last is a multiple of this. */
export const CHUNK_UNIT = 256 * 1024;
/** why: a session answering 308 without progress this often is not going to finish */
const MAX_STALLS = 3;

/** What an upload needs besides its arguments. */
export interface UploadContext {
  client: GoogleClient;
  provider: string;
  /** a multiple of CHUNK_UNIT */
  chunkSizeBytes: number;
  logger: Logger;
}

/** Uploads `body` as `name` into the bucket at `bucketPath` (`storage/v1/b/<bucket>`). */
export async function uploadObject(
  ctx: UploadContext,
  bucketPath: string,
  name: string,
  body: AsyncIterable<Uint8Array>,
  opts: UploadOptions | undefined,
): Promise<StorageObject> {
  const { provider } = ctx;
  const size = opts?.size;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new InvalidInputError('size must be a non-negative integer', { provider, field: 'size' });
  const contentType = opts?.contentType ?? 'application/octet-stream';
  const resource: Json = { name, contentType, ...(opts?.metadata && Object.keys(opts.metadata).length ? { metadata: opts.metadata } : {}) };
  const source = bodySource(body, { provider, expectedSize: size });
  try {
    const chunk = Buffer.allocUnsafe(size === undefined ? ctx.chunkSizeBytes : Math.min(ctx.chunkSizeBytes, size));
    const length = await fillBuffer(source, chunk);
    if (size === undefined ? length < chunk.length || (await source.atEnd()) : size <= chunk.length) {
      if (size !== undefined && !(await source.atEnd())) throw sizeMismatch(source.total, size, provider);
      return await multipartUpload(ctx, bucketPath, resource, chunk.subarray(0, length), md5Of(source));
    }
    return await resumableUpload(ctx, bucketPath, resource, source, chunk, size);
  } catch (err) {
    await source.cancel();
    throw source.failure ? source.failure.cause : err;
  }
}

// --- Internal helpers ---

async function multipartUpload(ctx: UploadContext, bucketPath: string, resource: Json, data: Buffer, md5: string): Promise<StorageObject> {
  let boundary = `skygraph-${randomBytes(16).toString('hex')}`;
  while (data.includes(boundary)) boundary = `skygraph-${randomBytes(16).toString('hex')}`;
  const meta = JSON.stringify({ ...resource, md5Hash: Buffer.from(md5, 'hex').toString('base64') });
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${meta}\r\n--${boundary}\r\nContent-Type: ${String(resource.contentType)}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  // https://cloud.google.com/storage/docs/json_api/v1/objects/insert (uploadType=multipart)
  const res = await ctx.client.request<unknown>({
    operation: 'POST objects (multipart upload)',
    method: 'POST',
    path: `upload/${bucketPath}/o`,
    query: { uploadType: 'multipart' },
    headers: { 'content-type': `multipart/related; boundary=${boundary}` },
    body: payload,
    // why: sending the same bytes to the same name again stores the same object
    idempotent: true,
  });
  return checked(toObject(obj(res.body) ?? {}, ctx.provider), md5, ctx.provider);
}

/** `chunk` arrives filled with the body's first bytes. */
async function resumableUpload(ctx: UploadContext, bucketPath: string, resource: Json, source: BodySource, chunk: Buffer, size: number | undefined): Promise<StorageObject> {
  const { client, provider } = ctx;
  // https://cloud.google.com/storage/docs/performing-resumable-uploads#initiate-session
  const started = await client.request<unknown>({
    operation: 'POST objects (start resumable upload)',
    method: 'POST',
    path: `upload/${bucketPath}/o`,
    query: { uploadType: 'resumable' },
    headers: { 'x-upload-content-type': String(resource.contentType), ...(size !== undefined ? { 'x-upload-content-length': String(size) } : {}) },
    json: resource,
    // why: a second session is only an unused session
    idempotent: true,
    responseType: 'none',
  });
  const session = started.headers.location;
  if (!session) throw new MalformedResponseError('POST objects (start resumable upload) answered without a Location', { provider, status: started.status });
  try {
    let offset = 0;
    let length = chunk.length;
    for (;;) {
      const last = length < chunk.length || (size !== undefined ? offset + length === size : await source.atEnd());
      const done = await sendChunk(ctx, session, chunk.subarray(0, length), offset, last ? offset + length : undefined);
      if (done) return checked(done, md5Of(source), provider);
      offset += length;
      length = await fillBuffer(source, chunk);
    }
  } catch (err) {
    // https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload
    await client.request({ operation: 'DELETE resumable upload', method: 'DELETE', path: session, expect: [499, 204, 200, 404, 410], responseType: 'none' }).catch((cancelErr: unknown) => {
      ctx.logger.warn(`${provider}: cancelling a resumable upload failed; Cloud Storage drops it after a week`, {
        error: cancelErr instanceof SkygraphError ? cancelErr.message : String(cancelErr),
      });
    });
    throw err;
  }
}

/**
 * Sends bytes [offset, offset + data.length) of the object, resending what Cloud Storage did not
 * persist; `total` marks the final request. Returns the object once the upload is complete.
 */
async function sendChunk(ctx: UploadContext, session: string, data: Buffer, offset: number, total: number | undefined): Promise<StorageObject | undefined> {
  let sent = 0;
  let stalls = 0;
  for (;;) {
    const from = offset + sent;
    const rest = data.subarray(sent);
    const range = rest.length === 0 ? `bytes */${total ?? '*'}` : `bytes ${from}-${from + rest.length - 1}/${total ?? '*'}`;
    // https://cloud.google.com/storage/docs/performing-resumable-uploads#chunked-upload
    const res = await ctx.client.request<string>({
      operation: 'PUT resumable upload chunk',
      method: 'PUT',
      path: session,
      headers: { 'content-range': range },
      body: rest,
      expect: [200, 201, 308],
      responseType: 'text',
    });
    if (res.status !== 308) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        throw new MalformedResponseError('PUT resumable upload chunk: the final answer is not the object', { provider: ctx.provider, status: res.status });
      }
      if (total === undefined) throw new ProviderError('PUT resumable upload chunk: the upload completed before its last chunk was sent', { provider: ctx.provider });
      return toObject(obj(parsed) ?? {}, ctx.provider);
    }
    if (total !== undefined && rest.length === 0) throw new ProviderError(`PUT resumable upload chunk: Cloud Storage did not complete the ${total}-byte upload`, { provider: ctx.provider });
    const persisted = persistedBytes(res.headers.range);
    const end = offset + data.length;
    if (persisted === end && total === undefined) return undefined;
    if (persisted < offset || persisted > end) {
      throw new ProviderError(`PUT resumable upload chunk: Cloud Storage holds ${persisted} bytes, outside the chunk ${offset}-${end}`, { provider: ctx.provider });
    }
    if (persisted - offset <= sent && ++stalls >= MAX_STALLS) throw new ProviderError('PUT resumable upload chunk: Cloud Storage keeps persisting nothing', { provider: ctx.provider });
    sent = persisted - offset;
  }
}

/** `Range: bytes=0-N` of a 308 -> N + 1; no header means nothing persisted. */
function persistedBytes(range: string | undefined): number {
  const m = /^bytes=0-(\d+)$/.exec(range?.trim() ?? '');
  return m ? Number(m[1]) + 1 : 0;
}

function checked(object: StorageObject, md5: string, provider: string): StorageObject {
  if (object.hash !== null && object.hash !== md5) {
    throw new ProviderError(`the stored object's MD5 ${object.hash} differs from the ${md5} of the bytes sent`, { provider });
  }
  return object;
}

/** hex MD5 of the whole body; the body has ended. */
function md5Of(source: BodySource): string {
  return source.md5() ?? '';
}
