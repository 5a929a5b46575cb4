/**
 * Cloud Storage V4 signed URLs (GOOG4-RSA-SHA256), signed with a service account's key. Pure and
 * deterministic given `now`: tested against Google's published conformance vectors
 * (fixtures/gcs/v4-signing).
 *
 * https://cloud.google.com/storage/docs/authentication/signatures#signing-process
 * https://cloud.google.com/storage/docs/access-control/signing-urls-manually
 */
import { createHash } from 'node:crypto';
import { encodeRfc3986 } from '../../http/serialize.ts';

export const V4_ALGORITHM = 'GOOG4-RSA-SHA256';
/** the longest a V4 signature is valid: seven days */
export const MAX_EXPIRES_SECONDS = 604_800;

/** Where the bucket goes: the path (default), the host name, or a bucket-bound (CNAME) domain. */
export type UrlStyle = 'path' | 'virtual-hosted' | 'bucket-bound';

export interface V4SignInput {
  method: string;
  bucket: string;
  /** absent for a bucket URL */
  object?: string | undefined;
  expiresInSeconds: number;
  now: Date;
  clientEmail: string;
  /** RSASSA-PKCS1-v1_5 SHA-256 over the string to sign */
  sign: (stringToSign: string) => Buffer;
  /** `https://storage.googleapis.com` or another origin (emulators, tests); for 'bucket-bound' the bucket's domain */
  origin: string;
  urlStyle?: UrlStyle;
  /** headers the URL's user must send as they are (signed) */
  headers?: Record<string, string> | undefined;
  /** extra query parameters (signed) */
  queryParameters?: Record<string, string> | undefined;
}

/** The URL and the intermediate strings (for tests). */
export interface V4Signed {
  url: string;
  canonicalRequest: string;
  stringToSign: string;
}

export function signV4Url(input: V4SignInput): V4Signed {
  const origin = new URL(input.origin);
  const style = input.urlStyle ?? 'path';
  const host = style === 'virtual-hosted' ? `${input.bucket}.${origin.host}` : origin.host;
  const objectPath = input.object === undefined ? '' : `/${input.object.split('/').map(encodeRfc3986).join('/')}`;
  const path = style === 'path' ? `/${encodeRfc3986(input.bucket)}${objectPath}` : objectPath || '/';

  const headers: Record<string, string> = { host };
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value.trim().replace(/\s+/g, ' ');
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]}\n`).join('');

  const stamp = input.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = stamp.slice(0, 8);
  const scope = `${date}/auto/storage/goog4_request`;
  const query: [string, string][] = [
    ['X-Goog-Algorithm', V4_ALGORITHM],
    ['X-Goog-Credential', `${input.clientEmail}/${scope}`],
    ['X-Goog-Date', stamp],
    ['X-Goog-Expires', String(input.expiresInSeconds)],
    ['X-Goog-SignedHeaders', signedHeaders],
    ...Object.entries(input.queryParameters ?? {}),
  ];
  const canonicalQuery = query
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payload = headers['x-goog-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [input.method.toUpperCase(), path, canonicalQuery, canonicalHeaders, signedHeaders, payload].join('\n');
  const stringToSign = [V4_ALGORITHM, stamp, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signature = input.sign(stringToSign).toString('hex');
  return { url: `${origin.protocol}//${host}${path}?${canonicalQuery}&X-Goog-Signature=${signature}`, canonicalRequest, stringToSign };
}
