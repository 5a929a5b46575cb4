/**
 * The Cloud Storage driver (JSON API v1): buckets are containers, objects are objects. Listing
 * pages with pageToken; downloads stream (metadata first, then the media of that generation, with
 * a byte range when asked); uploads stream (upload.ts); presigned URLs are V4 signed URLs of the
 * XML API (signed-url.ts), which need a service-account key.
 *
 * https://cloud.google.com/storage/docs/json_api/v1
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import {
  ConflictError,
  ContainerAlreadyExistsError,
  ContainerNotEmptyError,
  InvalidInputError,
  MalformedResponseError,
  UnsupportedError,
} from '../../errors.ts';
import { encodeRfc3986 } from '../../http/serialize.ts';
import { checkListOptions } from '../../storage/checks.ts';
import type { ByteRange, Download, ListObjectsOptions, Logger, PresignedRequest, StorageDriver } from '../../types.ts';
import { listAllPages, type GoogleClient } from '../client.ts';
import { list, obj, str } from '../json.ts';
import { toContainer, toObject } from './mappers.ts';
import { MAX_EXPIRES_SECONDS, signV4Url } from './signed-url.ts';
import { uploadObject } from './upload.ts';

/** Settings of one driver instance (see index.ts for the account options). */
export interface GcsStorageOptions {
  client: GoogleClient;
  provider: string;
  /** location of new buckets (default US) */
  location: string;
  /** storage class of new buckets (default: Cloud Storage's STANDARD) */
  storageClass: string | undefined;
  chunkSizeBytes: number;
  logger: Logger;
  now: () => Date;
}

const MAX_RESULTS = 1000;
/** https://cloud.google.com/storage/docs/buckets#naming */
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export function gcsStorageDriver(opts: GcsStorageOptions): StorageDriver {
  const { client, provider } = opts;
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  const bucketPath = (bucket: string) => {
    if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket) || bucket.split('.').some((p) => p.length > 63)) {
      throw fail('container', 'container must be a bucket name: 3 to 63 lower-case letters, digits, dots, hyphens or underscores');
    }
    return `storage/v1/b/${bucket}`;
  };
  const objectPath = (bucket: string, name: string) => {
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) > 1024 || name === '.' || name === '..' || /[\r\n]/.test(name)) {
      throw fail('name', 'name must be 1 to 1024 bytes of UTF-8 without line breaks, and not . or ..');
    }
    return `${bucketPath(bucket)}/o/${encodeRfc3986(name)}`;
  };
  const getObject = async (bucket: string, name: string) => {
    // https://cloud.google.com/storage/docs/json_api/v1/objects/get
    const res = await client.request<unknown>({ operation: 'GET object', path: objectPath(bucket, name) });
    return obj(res.body) ?? {};
  };
  const signer = async () => {
    const { signRsaSha256, clientEmail } = await client.auth.credentials();
    if (!signRsaSha256 || !clientEmail) throw new UnsupportedError('signed URLs need a service-account key; credentials.accessToken cannot sign', { provider });
    return { sign: signRsaSha256, clientEmail };
  };
  const presign = async (method: string, bucket: string, name: string, expiresInSeconds: number) => {
    objectPath(bucket, name);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_EXPIRES_SECONDS) {
      throw fail('expiresInSeconds', `expiresInSeconds must be an integer from 1 to ${MAX_EXPIRES_SECONDS} (seven days)`);
    }
    const { sign, clientEmail } = await signer();
    const now = opts.now();
    const { url } = signV4Url({ method, bucket, object: name, expiresInSeconds, now, clientEmail, sign, origin: client.baseUrl.origin });
    return { url, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000) };
  };

  return {
    async listContainers() {
      // https://cloud.google.com/storage/docs/json_api/v1/buckets/list
      const items = await listAllPages(client, 'GET buckets', 'storage/v1/b', { project: await client.project(), maxResults: MAX_RESULTS });
      return items.map((b) => toContainer(b, provider));
    },

    async getContainer(name) {
      // https://cloud.google.com/storage/docs/json_api/v1/buckets/get
      const res = await client.request<unknown>({ operation: 'GET bucket', path: bucketPath(name) });
      return toContainer(obj(res.body) ?? {}, provider);
    },

    async createContainer(name) {
      bucketPath(name);
      try {
        // https://cloud.google.com/storage/docs/json_api/v1/buckets/insert
        const res = await client.request<unknown>({
          operation: 'POST buckets',
          method: 'POST',
          path: 'storage/v1/b',
          query: { project: await client.project() },
          json: { name, location: opts.location, ...(opts.storageClass ? { storageClass: opts.storageClass } : {}) },
        });
        return toContainer(obj(res.body) ?? {}, provider);
      } catch (err) {
        if (err instanceof ConflictError) throw new ContainerAlreadyExistsError(stripPrefix(err.message), { provider, status: err.status, requestId: err.requestId });
        throw err;
      }
    },

    async deleteContainer(name) {
      try {
        // https://cloud.google.com/storage/docs/json_api/v1/buckets/delete
        await client.request({ operation: 'DELETE bucket', method: 'DELETE', path: bucketPath(name), expect: [204, 200], responseType: 'none' });
      } catch (err) {
        if (err instanceof ConflictError) throw new ContainerNotEmptyError(stripPrefix(err.message), { provider, status: err.status, requestId: err.requestId });
        throw err;
      }
    },

    async listObjects(container, options?: ListObjectsOptions) {
      const { prefix, cursor, limit } = checkListOptions(options, provider);
      // https://cloud.google.com/storage/docs/json_api/v1/objects/list
      const res = await client.request<unknown>({
        operation: 'GET objects',
        path: `${bucketPath(container)}/o`,
        query: { prefix: prefix || undefined, maxResults: Math.min(limit ?? MAX_RESULTS, MAX_RESULTS), pageToken: cursor },
      });
      const body = obj(res.body);
      if (!body) throw new MalformedResponseError('GET objects answered without a JSON object', { provider, status: res.status });
      return { objects: list(body.items).map((o) => toObject(o, provider)), nextCursor: str(body.nextPageToken) ?? null };
    },

    getObject: async (container, name) => toObject(await getObject(container, name), provider),

    async uploadObject(container, name, body, options) {
      objectPath(container, name);
      return uploadObject({ client, provider, chunkSizeBytes: opts.chunkSizeBytes, logger: opts.logger }, bucketPath(container), name, body, options);
    },

    async downloadObject(container, name, range?: ByteRange): Promise<Download> {
      const resource = await getObject(container, name);
      const object = toObject(resource, provider);
      const size = object.size;
      let wanted: { start: number; end: number; total: number } | undefined;
      if (range !== undefined) {
        const { start, end } = range;
        if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
          throw fail('range', 'range must have 0 <= start <= end');
        }
        if (start >= size) throw fail('range', `range starts at ${start} but the object has ${size} bytes`);
        wanted = { start, end: Math.min(end ?? size - 1, size - 1), total: size };
      }
      // https://cloud.google.com/storage/docs/json_api/v1/objects/get (alt=media)
      const res = await client.request<Readable>({
        operation: 'GET object media',
        path: objectPath(container, name),
        query: { alt: 'media', generation: str(resource.generation) },
        headers: wanted ? { range: `bytes=${wanted.start}-${wanted.end}` } : {},
        expect: [200, 206],
        responseType: 'stream',
      });
      if (!wanted) return { object, body: res.body };
      if (res.status === 206) {
        const sent = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
        if (!sent || Number(sent[1]) !== wanted.start || Number(sent[2]) !== wanted.end) {
          res.body.destroy();
          throw new MalformedResponseError(`GET object media: asked for bytes ${wanted.start}-${wanted.end}, got Content-Range ${res.headers['content-range'] ?? 'none'}`, { provider });
        }
        return { object, body: res.body, range: wanted };
      }
      // why: a 200 means the whole object came back; pass on only the asked-for bytes
      return { object, body: pipeline(res.body, sliceStream(wanted.start, wanted.end), () => undefined), range: wanted };
    },

    async deleteObject(container, name) {
      // https://cloud.google.com/storage/docs/json_api/v1/objects/delete
      await client.request({ operation: 'DELETE object', method: 'DELETE', path: objectPath(container, name), expect: [204, 200], responseType: 'none' });
    },

    // https://cloud.google.com/storage/docs/access-control/signed-urls
    getDownloadUrl: async (container, name, expiresInSeconds) => (await presign('GET', container, name, expiresInSeconds)).url,

    async createUploadUrl(container, name, expiresInSeconds): Promise<PresignedRequest> {
      const { url, expiresAt } = await presign('PUT', container, name, expiresInSeconds);
      return { url, method: 'PUT', headers: {}, expiresAt };
    },
  };
}

// --- Internal helpers ---

function stripPrefix(message: string): string {
  return message.replace(/^\[[^\]]+\] /, '');
}

/** Passes on bytes [start, end] of a stream, then ends. */
function sliceStream(start: number, end: number): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(start - position, 0);
      const to = Math.min(end + 1 - position, chunk.length);
      position += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      done();
    },
  });
}
