/**
 * AWS Signature Version 4: header form (`Authorization: AWS4-HMAC-SHA256 …`) and query form
 * (presigned URLs).
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 *
 * Every stage is exported as a pure function so the tests can check each one against the
 * published vectors (fixtures/aws-sig-v4-test-suite).
 */
import { createHash, createHmac } from 'node:crypto';
import { AuthenticationError, InvalidInputError } from '../../errors.ts';
import type { HttpRequest, Signer } from '../types.ts';

/** Long-term or temporary (STS) AWS credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** present for temporary credentials; sent as X-Amz-Security-Token */
  sessionToken?: string | undefined;
}

/** Options of {@link awsV4Signer}. */
export interface AwsV4SignerOptions {
  /** signing name of the service: `ec2`, `elasticloadbalancing`, `s3`, … */
  service: string;
  region: string;
  /** called on every signing, so rotated credentials are picked up */
  credentials: () => Promise<AwsCredentials> | AwsCredentials;
  /**
   * Sign `UNSIGNED-PAYLOAD` instead of the body hash and send it as x-amz-content-sha256
   * (S3 only). Streamed bodies always use it, whatever this says.
   */
  unsignedPayload?: boolean | undefined;
  /**
   * Include X-Amz-Security-Token in the signed headers (default true, what nearly every
   * service expects); false adds it after signing.
   */
  signSessionToken?: boolean | undefined;
}

/** Options of {@link presignAwsV4}. */
export interface AwsV4PresignOptions {
  service: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
  /** seconds the URL stays valid, 1 to 604800 (7 days) */
  expiresIn: number;
}

/** What {@link canonicalRequest} canonicalises. */
export interface CanonicalRequestInput {
  method: string;
  /** the path exactly as it goes on the wire (percent-encoded as in the request line) */
  path: string;
  /** the query without `?`, as a raw string or parsed */
  query: string | URLSearchParams;
  /** header values given as an array are joined with commas, in order */
  headers: Record<string, string | readonly string[]>;
  /** lower-case names of the headers to sign; all given headers when absent */
  signedHeaders?: readonly string[] | undefined;
  /** hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` */
  payloadHash: string;
  /** decides path handling: S3 encodes once and does not normalise */
  service: string;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty string */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const MAX_PRESIGN_EXPIRES = 604_800;

/**
 * Headers never signed: hop-by-hop ones a proxy or the HTTP client may rewrite, and the
 * signature itself.
 */
const UNSIGNABLE_HEADERS = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/**
 * A signer that adds host, x-amz-date, x-amz-content-sha256 (S3 or unsigned payloads),
 * x-amz-security-token and authorization. Streams are never read: they are signed as
 * `UNSIGNED-PAYLOAD`.
 */
export function awsV4Signer(opts: AwsV4SignerOptions): Signer {
  const isS3 = opts.service === 's3';
  const signToken = opts.signSessionToken ?? true;
  return {
    async sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest> {
      const creds = checkCredentials(await opts.credentials(), opts.service);
      const amzDate = formatAmzDate(ctx.now);
      const headers = withoutHeaders(req.headers, ['authorization', 'x-amz-date', 'x-amz-security-token']);

      // why: a caller that already hashed the body (or chose UNSIGNED-PAYLOAD) says so in this header
      let payloadHash = headers['x-amz-content-sha256'];
      if (payloadHash === undefined) {
        payloadHash = opts.unsignedPayload || isAsyncIterable(req.body) ? UNSIGNED_PAYLOAD : hashPayload(req.body ?? '');
        if (isS3 || payloadHash === UNSIGNED_PAYLOAD) headers['x-amz-content-sha256'] = payloadHash;
      }
      if (headers['host'] === undefined) headers['host'] = req.url.host;
      headers['x-amz-date'] = amzDate;
      if (creds.sessionToken && signToken) headers['x-amz-security-token'] = creds.sessionToken;

      const signed = signableHeaderNames(headers);
      const creq = canonicalRequest({
        method: req.method,
        path: req.url.pathname,
        query: req.url.searchParams,
        headers,
        signedHeaders: signed,
        payloadHash,
        service: opts.service,
      });
      const scope = credentialScope(amzDate.slice(0, 8), opts.region, opts.service);
      const sig = signature(
        signingKey(creds.secretAccessKey, amzDate.slice(0, 8), opts.region, opts.service),
        stringToSign(creq, amzDate, scope),
      );
      headers['authorization'] = authorizationHeader(creds.accessKeyId, scope, signed, sig);
      if (creds.sessionToken && !signToken) headers['x-amz-security-token'] = creds.sessionToken;
      return { ...req, headers };
    },
  };
}

/**
 * A presigned URL (query-string form). Signs only `host` and the given headers; the payload
 * is `UNSIGNED-PAYLOAD` for S3 and the empty hash elsewhere.
 */
export function presignAwsV4(
  req: { method: string; url: URL; headers?: Record<string, string> | undefined },
  opts: AwsV4PresignOptions,
): URL {
  if (!Number.isInteger(opts.expiresIn) || opts.expiresIn < 1 || opts.expiresIn > MAX_PRESIGN_EXPIRES) {
    throw new InvalidInputError(`expiresIn must be a whole number of seconds from 1 to ${MAX_PRESIGN_EXPIRES}`, {
      provider: opts.service,
      field: 'expiresIn',
    });
  }
  const creds = checkCredentials(opts.credentials, opts.service);
  const amzDate = formatAmzDate(opts.now);
  const scope = credentialScope(amzDate.slice(0, 8), opts.region, opts.service);
  const headers = withoutHeaders(req.headers ?? {}, ['authorization']);
  if (headers['host'] === undefined) headers['host'] = req.url.host;
  const signed = signableHeaderNames(headers);

  const query = new URLSearchParams(req.url.searchParams);
  for (const name of [...query.keys()]) if (name.toLowerCase() === 'x-amz-signature') query.delete(name);
  query.set('X-Amz-Algorithm', ALGORITHM);
  query.set('X-Amz-Credential', `${creds.accessKeyId}/${scope}`);
  query.set('X-Amz-Date', amzDate);
  query.set('X-Amz-Expires', String(opts.expiresIn));
  query.set('X-Amz-SignedHeaders', signed.join(';'));
  if (creds.sessionToken) query.set('X-Amz-Security-Token', creds.sessionToken);

  const creq = canonicalRequest({
    method: req.method,
    path: req.url.pathname,
    query,
    headers,
    signedHeaders: signed,
    payloadHash: opts.service === 's3' ? UNSIGNED_PAYLOAD : EMPTY_SHA256,
    service: opts.service,
  });
  const sig = signature(
    signingKey(creds.secretAccessKey, amzDate.slice(0, 8), opts.region, opts.service),
    stringToSign(creq, amzDate, scope),
  );
  const out = new URL(req.url.href);
  // why: the query that is sent must be byte-for-byte the one that was signed
  out.search = `${canonicalQueryString(query)}&X-Amz-Signature=${sig}`;
  return out;
}

/** The canonical request: method, URI, query, headers, signed header list, payload hash. */
export function canonicalRequest(input: CanonicalRequestInput): string {
  const { canonical, signed } = canonicalHeaders(input.headers, input.signedHeaders);
  return [
    input.method.toUpperCase(),
    canonicalUri(input.path, input.service),
    canonicalQueryString(input.query),
    canonical,
    signed,
    input.payloadHash,
  ].join('\n');
}

/**
 * The canonical URI. Non-S3 services: dot segments removed, slashes collapsed, and the wire
 * path encoded again (so `%20` becomes `%2520`). S3: decoded and encoded once, as it is.
 */
export function canonicalUri(path: string, service: string): string {
  const raw = path === '' ? '/' : path;
  if (service === 's3') {
    return raw
      .split('/')
      .map((segment) => uriEncode(safeDecode(segment)))
      .join('/');
  }
  return normalizePath(raw)
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

/** Query parameters decoded, RFC 3986 encoded, sorted by encoded name then encoded value. */
export function canonicalQueryString(query: string | URLSearchParams): string {
  const params = typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
  const pairs: [string, string][] = [];
  for (const [name, value] of params) pairs.push([uriEncode(name), uriEncode(value)]);
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/**
 * Canonical headers block (each line `name:value\n`) and the `;`-joined signed header list.
 * Names lower-cased and sorted; values trimmed with inner whitespace runs collapsed; repeated
 * headers joined with commas.
 */
export function canonicalHeaders(
  headers: Record<string, string | readonly string[]>,
  signedHeaders?: readonly string[],
): { canonical: string; signed: string } {
  const merged = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase().trim();
    const values = typeof value === 'string' ? [value] : value;
    const list = merged.get(key) ?? [];
    for (const v of values) list.push(v.trim().replace(/\s+/g, ' '));
    merged.set(key, list);
  }
  const names = (signedHeaders ? signedHeaders.map((n) => n.toLowerCase()) : [...merged.keys()]).sort();
  let canonical = '';
  for (const name of names) {
    const values = merged.get(name);
    if (values === undefined) throw new InvalidInputError(`signed header ${name} is not on the request`, { field: name });
    canonical += `${name}:${values.join(',')}\n`;
  }
  return { canonical, signed: names.join(';') };
}

/** `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>` */
export function stringToSign(canonical: string, amzDate: string, scope: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

/** `<yyyymmdd>/<region>/<service>/aws4_request` */
export function credentialScope(dateStamp: string, region: string, service: string): string {
  return `${dateStamp}/${region}/${service}/aws4_request`;
}

const keyCache = new Map<string, Buffer>();
/** why: a handful of (secret, day, region, service) combinations per process; bound it anyway */
const KEY_CACHE_MAX = 64;

/**
 * The derived signing key, HMAC chained over date, region, service and `aws4_request`.
 * Cached per secret, day, region and service.
 */
export function signingKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Buffer {
  const cacheKey = `${dateStamp}\n${region}\n${service}\n${secretAccessKey}`;
  const hit = keyCache.get(cacheKey);
  if (hit) return hit;
  const kDate = hmac(`AWS4${secretAccessKey}`, dateStamp);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const key = hmac(kService, 'aws4_request');
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(cacheKey, key);
  return key;
}

/** Hex HMAC-SHA256 of the string to sign. */
export function signature(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

export function authorizationHeader(
  accessKeyId: string,
  scope: string,
  signedHeaders: readonly string[] | string,
  sig: string,
): string {
  const signed = typeof signedHeaders === 'string' ? signedHeaders : signedHeaders.join(';');
  return `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${sig}`;
}

/** `20150830T123600Z` */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Hex SHA-256 of a body held in memory. */
export function hashPayload(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` percent-encoded from UTF-8, upper-case hex. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 3986 dot-segment removal plus collapsing of repeated slashes; keeps a trailing slash. */
export function normalizePath(path: string): string {
  const segments = path.replace(/\/{2,}/g, '/').split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}

// --- Internal helpers ---

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isAsyncIterable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

function checkCredentials(creds: AwsCredentials | undefined, service: string): AwsCredentials {
  if (!creds || !creds.accessKeyId || !creds.secretAccessKey) {
    throw new AuthenticationError('AWS credentials are missing an access key id or secret access key', {
      provider: service,
    });
  }
  return creds;
}

/** A lower-cased copy without the named headers (any case). */
function withoutHeaders(headers: Record<string, string>, drop: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (drop.includes(lower)) continue;
    out[lower] = lower in out ? `${out[lower]},${value}` : value;
  }
  return out;
}

function signableHeaderNames(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .filter((name) => !UNSIGNABLE_HEADERS.has(name))
    .sort();
}
