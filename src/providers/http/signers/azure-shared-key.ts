/**
 * Azure Storage Shared Key authorization (Blob, Queue and File services, version 2009-09-19 and
 * later): `Authorization: SharedKey <account>:<base64 HMAC-SHA256(key, StringToSign)>`, and the
 * service SAS (shared access signature) query that the same key signs.
 *
 * https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key
 * https://learn.microsoft.com/rest/api/storageservices/create-service-sas
 *
 * Every stage is exported as a pure function so the tests can check each one against the
 * documented examples.
 */
import { createHmac } from 'node:crypto';
import { InvalidInputError } from '../../errors.ts';
import type { HttpRequest, Signer } from '../types.ts';

/** A storage account name and one of its two access keys (base64, as the portal shows it). */
export interface AzureSharedKeyCredentials {
  accountName: string;
  accountKey: string;
}

/** The standard headers, in StringToSign order, that Shared Key covers. */
export const SIGNED_STANDARD_HEADERS = [
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'date',
  'if-modified-since',
  'if-match',
  'if-none-match',
  'if-unmodified-since',
  'range',
] as const;

/** x-ms-version used for service SAS tokens and by the blob driver. */
export const AZURE_STORAGE_VERSION = '2021-08-06';

/**
 * The StringToSign of a request: verb, the standard headers (Content-Length empty when zero,
 * as versions 2015-02-21 and later want), the canonicalized x-ms- headers and the
 * canonicalized resource.
 */
export function sharedKeyStringToSign(req: Pick<HttpRequest, 'method' | 'url' | 'headers'>, accountName: string): string {
  const headers = lowerCaseKeys(req.headers);
  const standard = SIGNED_STANDARD_HEADERS.map((name) => {
    const value = headers[name] ?? '';
    return name === 'content-length' && value === '0' ? '' : value;
  });
  return [req.method.toUpperCase(), ...standard].join('\n') + '\n' + canonicalizedHeaders(headers) + canonicalizedResource(req.url, accountName);
}

/** The `x-ms-*` headers: lower-case names, sorted, values with folded white space, one per line. */
export function canonicalizedHeaders(headers: Record<string, string>): string {
  return Object.entries(lowerCaseKeys(headers))
    .filter(([name]) => name.startsWith('x-ms-'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}:${value.replace(/\s+/g, ' ').trim()}\n`)
    .join('');
}

/**
 * `/<account><encoded path>`, then each query parameter on its own line as `name:value`, names
 * lower-cased and sorted, the (decoded) values of a repeated name sorted and joined by commas.
 * On a path-style URL (the emulator's `/<account>/<container>`) the account appears twice, as
 * the documentation says it must.
 */
export function canonicalizedResource(url: URL, accountName: string): string {
  let out = `/${accountName}${url.pathname || '/'}`;
  const params = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase();
    params.set(key, [...(params.get(key) ?? []), value]);
  }
  for (const name of [...params.keys()].sort()) out += `\n${name}:${params.get(name)!.sort().join(',')}`;
  return out;
}

/** base64 HMAC-SHA256 of `text` under the base64 account key. */
export function hmacSha256Base64(accountKey: string, text: string): string {
  return createHmac('sha256', decodeKey(accountKey)).update(text, 'utf8').digest('base64');
}

/**
 * Signs every request with Shared Key. It sets `x-ms-date` from ctx.now (the Date line of the
 * StringToSign stays empty) and `x-ms-version` when the caller did not.
 */
export function azureSharedKeySigner(credentials: () => AzureSharedKeyCredentials, version = AZURE_STORAGE_VERSION): Signer {
  return {
    async sign(req: HttpRequest, ctx: { now: Date }): Promise<HttpRequest> {
      const { accountName, accountKey } = credentials();
      const headers: Record<string, string> = { ...req.headers, 'x-ms-date': ctx.now.toUTCString() };
      headers['x-ms-version'] ??= version;
      delete headers.authorization;
      const signature = hmacSha256Base64(accountKey, sharedKeyStringToSign({ ...req, headers }, accountName));
      return { ...req, headers: { ...headers, authorization: `SharedKey ${accountName}:${signature}` } };
    },
  };
}

/** What a service SAS grants. */
export interface ServiceSasInput {
  accountName: string;
  accountKey: string;
  container: string;
  /** the blob; a SAS without one covers the container (`sr=c`) */
  blob?: string | undefined;
  /** letters in the documented order: r(ead) a(dd) c(reate) w(rite) d(elete) l(ist) */
  permissions: string;
  start?: Date | undefined;
  expiry: Date;
  /** `https` or `https,http`; default `https,http` so emulators on plain http accept it */
  protocol?: 'https' | 'https,http' | undefined;
  version?: string | undefined;
}

/**
 * The service SAS StringToSign for versions 2020-12-06 and later: permissions, start, expiry,
 * `/blob/<account>/<container>[/<blob>]`, identifier, IP, protocol, version, resource, snapshot
 * time, encryption scope and the five response-header overrides, one per line.
 */
export function serviceSasStringToSign(input: Omit<ServiceSasInput, 'accountKey'>): string {
  const resource = `/blob/${input.accountName}/${input.container}${input.blob === undefined ? '' : `/${input.blob}`}`;
  return [
    input.permissions,
    input.start ? sasTime(input.start) : '',
    sasTime(input.expiry),
    resource,
    '', // signedIdentifier (stored access policy)
    '', // signedIP
    input.protocol ?? 'https,http',
    input.version ?? AZURE_STORAGE_VERSION,
    input.blob === undefined ? 'c' : 'b',
    '', // signedSnapshotTime
    '', // signedEncryptionScope
    '', // rscc
    '', // rscd
    '', // rsce
    '', // rscl
    '', // rsct
  ].join('\n');
}

/** The SAS query parameters (sv, st, se, sr, sp, spr, sig), to append to the resource URL. */
export function serviceSasQuery(input: ServiceSasInput): URLSearchParams {
  const version = input.version ?? AZURE_STORAGE_VERSION;
  const query = new URLSearchParams({ sv: version });
  if (input.start) query.set('st', sasTime(input.start));
  query.set('se', sasTime(input.expiry));
  query.set('sr', input.blob === undefined ? 'c' : 'b');
  query.set('sp', input.permissions);
  query.set('spr', input.protocol ?? 'https,http');
  query.set('sig', hmacSha256Base64(input.accountKey, serviceSasStringToSign({ ...input, version })));
  return query;
}

// --- Internal helpers ---

/** ISO 8601 UTC without milliseconds, the form the SAS examples use. */
function sasTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function decodeKey(accountKey: string): Buffer {
  const key = Buffer.from(accountKey, 'base64');
  // why: a key that is not base64 decodes to garbage silently; say so instead of signing with it
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== accountKey.trim().replace(/=+$/, '')) {
    throw new InvalidInputError('the storage account key must be base64', { field: 'credentials.accountKey' });
  }
  return key;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
