/**
 * S3 addressing and transport: which URL a bucket or key lives at (path-style or virtual-host),
 * one signed connection per origin, and presigned URLs for the same addresses.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
 */
import { InvalidInputError } from '../../errors.ts';
import { createConnection, type Connection, type ConnectionDefaults, type HttpResponse, type RequestOptions } from '../../http/connection.ts';
import { encodeRfc3986 } from '../../http/serialize.ts';
import { awsV4Signer, presignAwsV4, type AwsCredentials } from '../../http/signers/aws-v4.ts';
import { parseS3Error } from './errors.ts';

export const DRIVER_NAME = 's3';
/** why: a bucket per origin in virtual-host mode; an account rarely touches more at once */
const MAX_BUCKET_CONNECTIONS = 32;
const MAX_KEY_BYTES = 1024;
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** the DNS label rules S3 uses for virtual-host buckets */
const DNS_BUCKET = /^(?=.{3,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** How the client reaches the service. */
export interface S3ClientOptions {
  /** service endpoint: scheme, host, optional port and base path */
  endpoint: URL;
  region: string;
  /** every bucket in the path (`/bucket/key`) instead of the host name (`bucket.host/key`) */
  pathStyle: boolean;
  credentials: () => Promise<AwsCredentials>;
  recordCall: (operation: string) => void;
  now: () => Date;
  /** DriverContext.http */
  http?: ConnectionDefaults | undefined;
}

/** A request addressed to a bucket (or to the service when `bucket` is absent). */
export interface S3Request extends Omit<RequestOptions, 'path'> {
  bucket?: string;
  key?: string;
  /** appended verbatim after the path, e.g. `?uploads` */
  subresource?: string;
}

/** Signed S3 requests and presigned URLs for one (account, region). */
export interface S3Client {
  readonly region: string;
  request<T = unknown>(req: S3Request): Promise<HttpResponse<T>>;
  /** a presigned URL for the object, and when it stops working */
  presign(method: 'GET' | 'PUT', bucket: string, key: string, expiresIn: number): Promise<{ url: URL; expiresAt: Date }>;
  close(): Promise<void>;
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  const signer = awsV4Signer({ service: 's3', region: opts.region, credentials: opts.credentials, unsignedPayload: true });
  const connections = new Map<string, Connection>();
  const connectionFor = (origin: URL): Connection => {
    const key = origin.href;
    let conn = connections.get(key);
    if (conn) {
      // why: Map order is insertion order; re-inserting keeps the most recently used last
      connections.delete(key);
      connections.set(key, conn);
      return conn;
    }
    conn = createConnection({
      provider: DRIVER_NAME,
      baseUrl: key,
      signer,
      recordCall: opts.recordCall,
      parseError: parseS3Error,
      requestIdHeaders: ['x-amz-request-id', 'x-trans-id', 'x-amz-id-2'],
      now: opts.now,
      defaults: opts.http,
    });
    connections.set(key, conn);
    if (connections.size > MAX_BUCKET_CONNECTIONS) {
      const [oldest, evicted] = connections.entries().next().value as [string, Connection];
      connections.delete(oldest);
      // why: undici's Pool.close() lets requests in flight finish before it closes
      void evicted.close().catch(() => undefined);
    }
    return conn;
  };

  /** The connection base and the path below it for a bucket/key. */
  const address = (bucket: string | undefined, key: string | undefined): { base: URL; path: string } => {
    if (bucket === undefined) return { base: opts.endpoint, path: '' };
    checkBucketName(bucket);
    const keyPath = key === undefined ? '' : encodeKey(key);
    if (usePathStyle(opts, bucket)) {
      return { base: opts.endpoint, path: key === undefined ? encodeRfc3986(bucket) : `${encodeRfc3986(bucket)}/${keyPath}` };
    }
    const base = new URL(opts.endpoint.href);
    base.hostname = `${bucket}.${base.hostname}`;
    // why: the connection strips leading slashes of a relative path; keep a key's own as %2F
    return { base, path: keyPath.replace(/^\/+/, (s) => '%2F'.repeat(s.length)) };
  };

  return {
    region: opts.region,
    async request<T>(req: S3Request) {
      const { bucket, key, subresource, ...rest } = req;
      const { base, path } = address(bucket, key);
      return connectionFor(base).request<T>({ ...rest, path: `${path}${subresource ?? ''}` });
    },
    async presign(method, bucket, key, expiresIn) {
      const { base, path } = address(bucket, key);
      const url = new URL(base.href);
      url.pathname = `${base.pathname.replace(/\/+$/, '')}/${path}`;
      const credentials = await opts.credentials();
      const now = opts.now();
      const signed = presignAwsV4({ method, url }, { service: 's3', region: opts.region, credentials, now, expiresIn });
      return { url: signed, expiresAt: new Date(now.getTime() + expiresIn * 1000) };
    },
    async close() {
      const all = [...connections.values()];
      connections.clear();
      await Promise.allSettled(all.map((c) => c.close()));
    },
  };
}

/** Throws InvalidInputError (field `container`) unless `name` can be a bucket name in a URL. */
export function checkBucketName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !BUCKET_NAME.test(name)) {
    throw new InvalidInputError('bucket names are 1-255 letters, digits, ".", "_" or "-", starting with a letter or digit (AWS: 3-63, lower case)', {
      provider: DRIVER_NAME,
      field: 'container',
    });
  }
}

/** Throws InvalidInputError (field `name`) unless `key` is a key this driver can address. */
export function checkKey(key: unknown): asserts key is string {
  const fail = (why: string) => new InvalidInputError(`object name ${why}`, { provider: DRIVER_NAME, field: 'name' });
  if (typeof key !== 'string' || key === '') throw fail('must not be empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw fail(`must be at most ${MAX_KEY_BYTES} bytes of UTF-8`);
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    // why: URLs resolve dot segments (even percent-encoded ones), so such a key cannot be addressed reliably
    throw fail('must not contain "." or ".." between slashes');
  }
}

/** Each `/`-separated part RFC 3986 encoded; the slashes stay. */
export function encodeKey(key: string): string {
  checkKey(key);
  return key.split('/').map(encodeRfc3986).join('/');
}

// --- Internal helpers ---

/** Names that are not DNS labels, and dotted names over https (the wildcard certificate covers one label), go path-style. */
function usePathStyle(opts: S3ClientOptions, bucket: string): boolean {
  if (opts.pathStyle || !DNS_BUCKET.test(bucket)) return true;
  return opts.endpoint.protocol === 'https:' && bucket.includes('.');
}
