/**
 * S3 storage driver (also for S3-compatible stores: MinIO, Ceph RGW, R2, Swift s3api, s3rver):
 * buckets are containers, keys are objects. Bodies are streams both ways; see upload.ts for the
 * PutObject / multipart choice.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { Readable } from 'node:stream';
import { InvalidInputError, MalformedResponseError, ProviderError } from '../../errors.ts';
import { xmlList } from '../../http/parsers/xml.ts';
import { checkListOptions, contentLength, parseContentRange, rangeHeader } from '../../storage/checks.ts';
import type { ByteRange, Download, ListObjectsOptions, Logger, StorageDriver } from '../../types.ts';
import { DRIVER_NAME, checkKey, type S3Client } from './client.ts';
import {
  toContainer,
  toContainerFromEntry,
  toObjectFromHeaders,
  toObjectFromListEntry,
  type BucketEntry,
  type ListEntry,
} from './mappers.ts';
import { uploadObject } from './upload.ts';

/** Settings of one driver instance (see S3Options in index.ts for the account options). */
export interface S3StorageOptions {
  client: S3Client;
  multipartThresholdBytes: number;
  singlePutMaxBytes: number;
  partSizeBytes: number;
  /** AWS itself (not a custom endpoint): ListBuckets is filtered to this instance's region */
  filterBucketsByRegion: boolean;
  logger: Logger;
}

const MAX_KEYS = 1000;
const XML_ARRAYS = ['ListBucketResult.Contents', 'ListAllMyBucketsResult.Buckets.Bucket'] as const;

export function s3StorageDriver(opts: S3StorageOptions): StorageDriver {
  const { client } = opts;

  return {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    async listContainers() {
      const containers = [];
      let token: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const res = await client.request<Record<string, ListBucketsResult | undefined>>({
          operation: 'ListBuckets',
          query: { 'bucket-region': opts.filterBucketsByRegion ? client.region : undefined, 'continuation-token': token },
          responseType: 'xml',
          xmlArrays: XML_ARRAYS,
        });
        const result = res.body?.['ListAllMyBucketsResult'];
        if (!result) throw new MalformedResponseError('ListBuckets: no ListAllMyBucketsResult', { provider: DRIVER_NAME, requestId: res.requestId });
        const buckets = typeof result.Buckets === 'object' ? result.Buckets.Bucket : undefined;
        for (const entry of xmlList<BucketEntry>(buckets)) containers.push(toContainerFromEntry(entry));
        token = result.ContinuationToken || undefined;
        if (!token) break;
      }
      return containers;
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
    async getContainer(name) {
      const res = await client.request({ operation: 'HeadBucket', method: 'HEAD', bucket: name, responseType: 'none' });
      const region = res.headers['x-amz-bucket-region'];
      return toContainer(name, region ? { region } : {});
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    async createContainer(name) {
      const located = client.region !== 'us-east-1';
      await client.request({
        operation: 'CreateBucket',
        method: 'PUT',
        bucket: name,
        headers: located ? { 'content-type': 'application/xml' } : {},
        body: located
          ? `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${client.region}</LocationConstraint></CreateBucketConfiguration>`
          : undefined,
        // why: a retried create that already succeeded would report BucketAlreadyOwnedByYou
        idempotent: false,
        responseType: 'none',
      });
      return toContainer(name, { region: client.region });
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
    async deleteContainer(name) {
      await client.request({ operation: 'DeleteBucket', method: 'DELETE', bucket: name, expect: [200, 204], responseType: 'none' });
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
    async listObjects(container, options?: ListObjectsOptions) {
      const { prefix, cursor, limit } = checkListOptions(options, DRIVER_NAME);
      const res = await client.request<Record<string, ListObjectsResult | undefined>>({
        operation: 'ListObjectsV2',
        bucket: container,
        query: {
          'list-type': '2',
          prefix: prefix || undefined,
          'max-keys': Math.min(limit ?? MAX_KEYS, MAX_KEYS),
          'continuation-token': cursor,
          // why: keys may hold characters XML 1.0 cannot carry, or white space the parser would trim
          'encoding-type': 'url',
        },
        responseType: 'xml',
        xmlArrays: XML_ARRAYS,
      });
      const result = res.body?.['ListBucketResult'];
      if (!result) throw new MalformedResponseError('ListObjectsV2: no ListBucketResult', { provider: DRIVER_NAME, requestId: res.requestId });
      // why: stores that ignore encoding-type (s3rver) do not echo it, and their keys are plain
      const decode = result.EncodingType === 'url' ? decodeUrlEncodedKey : (key: string) => key;
      const objects = xmlList<ListEntry>(result.Contents).map((entry) => toObjectFromListEntry(container, entry, decode));
      const truncated = result.IsTruncated === 'true';
      const next = result.NextContinuationToken;
      if (truncated && !next) {
        throw new MalformedResponseError('ListObjectsV2: IsTruncated without NextContinuationToken', { provider: DRIVER_NAME, requestId: res.requestId });
      }
      return { objects, nextCursor: truncated ? (next as string) : null };
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
    async getObject(container, name) {
      const res = await client.request({ operation: 'HeadObject', method: 'HEAD', bucket: container, key: name, responseType: 'none' });
      return toObjectFromHeaders(container, name, res.headers, contentLength(res.headers, 'HeadObject', DRIVER_NAME));
    },

    async uploadObject(container, name, body, options) {
      checkKey(name);
      return uploadObject(
        {
          client,
          multipartThresholdBytes: opts.multipartThresholdBytes,
          singlePutMaxBytes: opts.singlePutMaxBytes,
          partSizeBytes: opts.partSizeBytes,
          logger: opts.logger,
        },
        container,
        name,
        body,
        options,
      );
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
    async downloadObject(container, name, range?: ByteRange): Promise<Download> {
      const header = range === undefined ? undefined : rangeHeader(range, DRIVER_NAME);
      const res = await client.request<Readable>({
        operation: 'GetObject',
        bucket: container,
        key: name,
        headers: header ? { range: header } : {},
        expect: [200, 206],
        responseType: 'stream',
      });
      try {
        const sent = res.status === 206 ? parseContentRange(res.headers['content-range']) : undefined;
        if (res.status === 206 && !sent) {
          throw new MalformedResponseError('GetObject: 206 without a readable Content-Range', { provider: DRIVER_NAME, requestId: res.requestId });
        }
        const size = sent ? sent.total : contentLength(res.headers, 'GetObject', DRIVER_NAME);
        const object = toObjectFromHeaders(container, name, res.headers, size);
        if (range === undefined) return { object, body: res.body };
        if (range.start >= size) throw invalid(`range starts at ${range.start} but the object has ${size} bytes`, 'range');
        const wanted = { start: range.start, end: Math.min(range.end ?? size - 1, size - 1), total: size };
        const from = sent ?? { start: 0, end: size - 1 };
        if (from.start === wanted.start && from.end === wanted.end) return { object, body: res.body, range: wanted };
        if (from.start > wanted.start || from.end < wanted.end) {
          throw new ProviderError(`GetObject: asked for bytes ${wanted.start}-${wanted.end}, the store sent ${from.start}-${from.end}`, {
            provider: DRIVER_NAME,
            requestId: res.requestId,
          });
        }
        // why: some stores (s3rver reads "bytes=0-0" as "bytes=0-") send more than the range; cut it to size
        return { object, body: byteWindow(res.body, wanted.start - from.start, wanted.end - wanted.start + 1), range: wanted };
      } catch (err) {
        res.body.destroy();
        throw err;
      }
    },

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
    async deleteObject(container, name) {
      await client.request({ operation: 'DeleteObject', method: 'DELETE', bucket: container, key: name, expect: [200, 204], responseType: 'none' });
    },

    async getDownloadUrl(container, name, expiresInSeconds) {
      return (await client.presign('GET', container, name, expiresInSeconds)).url.toString();
    },

    async createUploadUrl(container, name, expiresInSeconds) {
      const { url, expiresAt } = await client.presign('PUT', container, name, expiresInSeconds);
      return { url: url.toString(), method: 'PUT', headers: {}, expiresAt };
    },
  };
}

// --- Internal helpers ---

interface ListBucketsResult {
  Buckets?: { Bucket?: unknown } | '';
  ContinuationToken?: string;
}

interface ListObjectsResult {
  Contents?: unknown;
  IsTruncated?: string;
  NextContinuationToken?: string;
  EncodingType?: string;
}

function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}

/** `take` bytes of `body` after skipping `skip`; the rest of `body` is discarded. */
function byteWindow(body: Readable, skip: number, take: number): Readable {
  async function* window(): AsyncGenerator<Buffer> {
    let toSkip = skip;
    let left = take;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        let piece = chunk;
        if (toSkip > 0) {
          const dropped = Math.min(toSkip, piece.length);
          piece = piece.subarray(dropped);
          toSkip -= dropped;
        }
        if (piece.length === 0) continue;
        if (piece.length >= left) {
          yield piece.subarray(0, left);
          return;
        }
        left -= piece.length;
        yield piece;
      }
    } finally {
      body.destroy();
    }
  }
  return Readable.from(window(), { objectMode: false });
}

/** Keys under encoding-type=url: percent-encoded, and AWS writes spaces as `+`. */
function decodeUrlEncodedKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new MalformedResponseError('ListObjectsV2: a key is not valid URL encoding', { provider: DRIVER_NAME });
  }
}
