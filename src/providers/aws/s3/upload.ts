/**
 * Streaming uploads.
 *
 * - Known size (Content-Length) up to `singlePutMaxBytes`: one streamed PutObject, payload
 *   unsigned, nothing buffered and nothing hashed here. The object's `hash` is the ETag S3 returns,
 *   which for a single PUT is the MD5 of the bytes S3 stored unless SSE-KMS or SSE-C changed it
 *   (then it is the opaque ETag, as the contract allows). why: MD5 runs at about 320 MiB/s on one
 *   core, as fast as the whole transfer, so hashing on the event loop capped a 1 GiB upload at
 *   about 0.6 of the store's speed; the store hashes the bytes anyway. Integrity on the way is
 *   TCP's (and TLS's on https); S3 also refuses a body shorter or longer than Content-Length.
 *   Trade-off: a failed single PUT cannot be resumed or retried part by part (the stream is
 *   consumed), so a large failed upload costs the whole transfer again; multipart resends one part.
 * - Unknown size: read up to the multipart threshold (bounded); when the body ends there it goes
 *   as one PutObject with Content-MD5 (the store checks it).
 * - Anything larger: a multipart upload with at most two parts in memory, aborted on any failure
 *   so no partial object or orphaned parts remain. The MD5 of the whole body is computed on the
 *   way through and is the `hash`; the composite S3 ETag goes to `extra.etag`.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html (ETag and encryption)
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
import { InvalidInputError, MalformedResponseError, SkygraphError } from '../../errors.ts';
import type { HttpResponse } from '../../http/connection.ts';
import { parseXml } from '../../http/parsers/xml.ts';
import type { Extra, Logger, StorageObject, UploadOptions } from '../../types.ts';
import { bodySource, fillBuffer, prefixedSource, readChunks, type BodySource } from '../../storage/body-source.ts';
import { DRIVER_NAME, type S3Client } from './client.ts';
import { parseS3Error } from './errors.ts';
import { unquote } from './mappers.ts';
import { objectHeaders } from './metadata.ts';

/** S3 limits: 10,000 parts of 5 MiB to 5 GiB each. */
export const MAX_PARTS = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** why: two parts in flight keep the link busy while the next part is read, and bound memory at two parts */
const PART_CONCURRENCY = 2;

/** What an upload needs besides its arguments. */
export interface UploadContext {
  client: S3Client;
  multipartThresholdBytes: number;
  /** a body of known size up to this goes as one streamed PutObject (at most MAX_PART_BYTES, the PutObject limit) */
  singlePutMaxBytes: number;
  partSizeBytes: number;
  logger: Logger;
}

export async function uploadObject(
  ctx: UploadContext,
  bucket: string,
  key: string,
  body: AsyncIterable<Uint8Array>,
  opts: UploadOptions | undefined,
): Promise<StorageObject> {
  const { headers, metadata, contentType } = objectHeaders(opts);
  const size = checkSize(opts?.size);
  const singlePut = size !== undefined && size <= ctx.singlePutMaxBytes;
  const source = bodySource(body, { provider: DRIVER_NAME, expectedSize: size, md5: !singlePut });
  const target = { bucket, key };
  try {
    let res: HttpResponse;
    let partCount: number | undefined;
    if (singlePut) {
      res = await ctx.client.request({
        operation: 'PutObject',
        method: 'PUT',
        ...target,
        headers: { ...headers, 'content-length': String(size) },
        body: streamAll(source),
        responseType: 'none',
      });
    } else {
      // why: read one byte past the threshold at most, to learn whether the body ends within it
      const { chunks: prefix, length: prefixBytes } = size === undefined ? await readChunks(source, ctx.multipartThresholdBytes + 1) : { chunks: [], length: 0 };
      if (size === undefined && prefixBytes <= ctx.multipartThresholdBytes) {
        const whole = Buffer.concat(prefix, prefixBytes);
        prefix.length = 0;
        // why: the body has ended, so its MD5 is final; S3 checks it against what arrives
        const contentMd5 = Buffer.from(source.md5() ?? '', 'hex').toString('base64');
        res = await ctx.client.request({
          operation: 'PutObject',
          method: 'PUT',
          ...target,
          headers: { ...headers, 'content-md5': contentMd5 },
          body: whole,
          responseType: 'none',
        });
      } else {
        const partSize = Math.max(ctx.partSizeBytes, size === undefined ? 0 : Math.ceil(size / MAX_PARTS));
        ({ res, partCount } = await multipartUpload(ctx, target, headers, prefixedSource(prefix, source), partSize));
      }
    }
    const etag = unquote(res.headers['etag']);
    const extra: Extra = {};
    if (etag !== null) extra.etag = etag;
    if (res.headers['x-amz-version-id']) extra.versionId = res.headers['x-amz-version-id'];
    if (partCount !== undefined) extra.partsCount = partCount;
    const date = res.headers['date'] ? new Date(res.headers['date']) : null;
    return {
      container: bucket,
      name: key,
      size: source.total,
      hash: source.md5() ?? storedMd5(etag, res.headers) ?? etag,
      contentType,
      lastModified: date && !Number.isNaN(date.getTime()) ? date : null,
      metadata,
      extra,
    };
  } catch (err) {
    await source.cancel();
    // why: the caller's own stream failure goes back unchanged, not as a transport error
    throw source.failure ? source.failure.cause : err;
  }
}

// --- Internal helpers ---

type Target = { bucket: string; key: string };

async function multipartUpload(
  ctx: UploadContext,
  target: Target,
  headers: Record<string, string>,
  source: Pick<BodySource, 'read'>,
  partSize: number,
): Promise<{ res: HttpResponse; partCount: number }> {
  const { client } = ctx;
  const created = await client.request<Record<string, { UploadId?: string }>>({
    operation: 'CreateMultipartUpload',
    method: 'POST',
    ...target,
    subresource: '?uploads',
    headers,
    // why: a repeated create only leaves an empty upload behind, never data
    idempotent: true,
    responseType: 'xml',
  });
  const uploadId = created.body?.['InitiateMultipartUploadResult']?.UploadId;
  if (typeof uploadId !== 'string' || uploadId === '') {
    throw new MalformedResponseError('CreateMultipartUpload: the response has no UploadId', { provider: DRIVER_NAME, requestId: created.requestId });
  }
  const query = (extra: Record<string, string> = {}) => ({ uploadId, ...extra });

  const etags: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const spare: Buffer[] = [];
  // why: written by the part callbacks; a holder object, so the loop reads the latest value
  const state: { failure?: { error: unknown } } = {};
  const throwIfFailed = () => {
    if (state.failure) throw state.failure.error;
  };
  try {
    for (let partNumber = 1; ; partNumber++) {
      throwIfFailed();
      const buffer = spare.pop() ?? Buffer.allocUnsafe(partSize);
      const length = await fillBuffer(source, buffer);
      if (length === 0 && partNumber > 1) break;
      if (partNumber > MAX_PARTS) {
        throw new InvalidInputError(`the body needs more than ${MAX_PARTS} parts of ${partSize} bytes; raise options.partSizeBytes or pass the size`, {
          provider: DRIVER_NAME,
          field: 'body',
        });
      }
      const n = partNumber;
      const sending = client
        .request({
          operation: 'UploadPart',
          method: 'PUT',
          ...target,
          query: query({ partNumber: String(n) }),
          body: buffer.subarray(0, length),
          responseType: 'none',
        })
        .then((res) => {
          const etag = res.headers['etag'];
          if (!etag) throw new MalformedResponseError(`UploadPart: part ${n} came back without an ETag`, { provider: DRIVER_NAME });
          etags[n - 1] = etag;
          spare.push(buffer);
        })
        .catch((error: unknown) => {
          state.failure ??= { error };
        });
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      if (length < buffer.length) break;
      if (inFlight.size >= PART_CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    throwIfFailed();

    const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`);
    const res = await client.request<string>({
      operation: 'CompleteMultipartUpload',
      method: 'POST',
      ...target,
      query: query(),
      headers: { 'content-type': 'application/xml' },
      body: `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</CompleteMultipartUpload>`,
      idempotent: true,
      responseType: 'text',
    });
    // why: S3 may answer 200 and still report a failure in the body
    if (/<Error>/.test(res.body)) {
      throw parseS3Error({ status: 500, headers: res.headers, bodyText: res.body, operation: 'CompleteMultipartUpload', requestId: res.requestId });
    }
    const result = parseXml(res.body)['CompleteMultipartUploadResult'] as { ETag?: string } | undefined;
    const etag = result?.ETag ?? res.headers['etag'];
    return { res: { ...res, headers: etag ? { ...res.headers, etag } : res.headers }, partCount: etags.length };
  } catch (err) {
    await Promise.allSettled(inFlight);
    await client
      .request({ operation: 'AbortMultipartUpload', method: 'DELETE', ...target, query: query(), expect: [200, 204], responseType: 'none' })
      .catch((abortErr: unknown) => {
        ctx.logger.warn('s3: AbortMultipartUpload failed; the upload may hold parts until a lifecycle rule removes them', {
          bucket: target.bucket,
          key: target.key,
          error: abortErr instanceof SkygraphError ? abortErr.message : String(abortErr),
        });
      });
    throw err;
  }
}

/** The whole body, for a PutObject whose Content-Length is already known. */
async function* streamAll(source: BodySource): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await source.read(Number.MAX_SAFE_INTEGER);
    if (chunk === null) return;
    yield chunk;
  }
}

/**
 * The MD5 of a single-PUT object from its ETag: a plain 32-digit hex ETag is the MD5 of the
 * stored bytes, except under SSE-KMS or SSE-C, where it is not.
 */
function storedMd5(etag: string | null, headers: Record<string, string>): string | null {
  if (etag === null || !/^[0-9a-fA-F]{32}$/.test(etag)) return null;
  if ((headers['x-amz-server-side-encryption'] ?? '').startsWith('aws:kms')) return null;
  if (headers['x-amz-server-side-encryption-customer-algorithm']) return null;
  return etag.toLowerCase();
}

function checkSize(size: unknown): number | undefined {
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidInputError('size must be a non-negative integer', { provider: DRIVER_NAME, field: 'size' });
  }
  if (size > MAX_PARTS * MAX_PART_BYTES) throw new InvalidInputError(`size is over the S3 object limit`, { provider: DRIVER_NAME, field: 'size' });
  return size;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
