/**
 * Azure Blob responses -> skygraph models (blob properties from headers and from List Blobs
 * entries, containers from List Containers), and upload options -> request headers.
 *
 * https://learn.microsoft.com/rest/api/storageservices/get-blob-properties
 * https://learn.microsoft.com/rest/api/storageservices/list-blobs
 * https://learn.microsoft.com/rest/api/storageservices/list-containers2
 * https://learn.microsoft.com/rest/api/storageservices/setting-and-retrieving-properties-and-metadata-for-blob-resources
 */
import { InvalidInputError, MalformedResponseError } from '../../errors.ts';
import type { Container, Extra, StorageObject, UploadOptions } from '../../types.ts';
import { DRIVER_NAME } from './errors.ts';

export const META_PREFIX = 'x-ms-meta-';
/** what the service stores when a blob is written without a content type */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Azure's limit on all metadata of one blob (names and values) */
const MAX_METADATA_BYTES = 8 * 1024;
/** metadata names must be C# identifiers */
const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** printable US-ASCII and spaces, no leading or trailing white space (HTTP would trim it) */
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/** One `<Container>` of a List Containers result, as the XML parser gives it. */
export interface ContainerEntry {
  Name?: string;
  Properties?: { 'Last-Modified'?: string; Etag?: string; PublicAccess?: string } | '';
}

/** One `<Blob>` of a List Blobs result. */
export interface BlobEntry {
  Name?: string | { '#text'?: string; Encoded?: string };
  Properties?: Record<string, string | undefined> | '';
  Metadata?: Record<string, unknown> | '';
}

/** What an upload sends as headers, and what it then reports. */
export interface BlobHeaders {
  headers: Record<string, string>;
  metadata: Record<string, string>;
  contentType: string;
}

export function toContainer(name: string, extra: Extra = {}): Container {
  return { name, objectCount: null, bytes: null, extra };
}

export function toContainerFromEntry(entry: ContainerEntry): Container {
  if (typeof entry.Name !== 'string' || entry.Name === '') throw malformed('List Containers: a container has no Name');
  const props = typeof entry.Properties === 'object' ? entry.Properties : {};
  const extra: Extra = {};
  if (props['Last-Modified']) extra.lastModified = props['Last-Modified'];
  if (props.Etag) extra.etag = unquote(props.Etag);
  if (props.PublicAccess) extra.publicAccess = props.PublicAccess;
  return toContainer(entry.Name, extra);
}

/** A StorageObject from Get Blob / Get Blob Properties headers; `size` is the whole blob's. */
export function toObjectFromHeaders(container: string, name: string, headers: Record<string, string>, size: number, ranged = false): StorageObject {
  const metadata: Record<string, string> = {};
  for (const [header, value] of Object.entries(headers)) {
    if (header.startsWith(META_PREFIX)) metadata[header.slice(META_PREFIX.length)] = value;
  }
  const etag = unquote(headers['etag']);
  // why: on a ranged read Content-MD5 (when sent) covers the range; x-ms-blob-content-md5 is the blob's
  const md5 = md5Hex(headers['x-ms-blob-content-md5'] ?? (ranged ? undefined : headers['content-md5']));
  const extra: Extra = {};
  if (etag !== null) extra.etag = etag;
  if (headers['x-ms-blob-type']) extra.blobType = headers['x-ms-blob-type'];
  if (headers['x-ms-access-tier']) extra.accessTier = headers['x-ms-access-tier'];
  return {
    container,
    name,
    size,
    hash: md5 ?? etag,
    contentType: headers['content-type'] ?? null,
    lastModified: parseDate(headers['last-modified']),
    metadata,
    extra,
  };
}

/** A StorageObject from a List Blobs entry; `name` is the raw (untrimmed) name read from the XML. */
export function toObjectFromEntry(container: string, name: string, entry: BlobEntry): StorageObject {
  const props = typeof entry.Properties === 'object' ? entry.Properties : {};
  const size = Number(props['Content-Length']);
  if (!Number.isSafeInteger(size) || size < 0) throw malformed(`List Blobs: ${name} has no valid Content-Length`);
  const metadata: Record<string, string> = {};
  if (typeof entry.Metadata === 'object') {
    for (const [key, value] of Object.entries(entry.Metadata)) if (typeof value === 'string') metadata[key.toLowerCase()] = value;
  }
  const etag = unquote(props.Etag);
  const extra: Extra = {};
  if (etag !== null) extra.etag = etag;
  if (props.BlobType) extra.blobType = props.BlobType;
  if (props.AccessTier) extra.accessTier = props.AccessTier;
  return {
    container,
    name,
    size,
    hash: md5Hex(props['Content-MD5']) ?? etag,
    contentType: props['Content-Type'] || null,
    lastModified: parseDate(props['Last-Modified']),
    metadata,
    extra,
  };
}

/**
 * Content type and metadata -> `x-ms-blob-content-type` and `x-ms-meta-*`. Metadata names are
 * case-insensitive in Azure and come back lower-case in headers, so they are lower-cased here.
 */
export function blobHeaders(opts: UploadOptions | undefined): BlobHeaders {
  const invalid = (message: string, field: string) => new InvalidInputError(message, { provider: DRIVER_NAME, field });
  const contentType = opts?.contentType ?? DEFAULT_CONTENT_TYPE;
  if (typeof contentType !== 'string' || contentType === '' || !HEADER_VALUE.test(contentType)) {
    throw invalid('contentType must be a non-empty single line of printable ASCII', 'contentType');
  }
  const headers: Record<string, string> = { 'x-ms-blob-content-type': contentType };
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(opts?.metadata ?? {})) {
    const field = `metadata.${key}`;
    if (!METADATA_NAME.test(key)) throw invalid('metadata names must be C# identifiers (a letter or _, then letters, digits or _)', field);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw invalid('metadata values must be printable US-ASCII without leading or trailing spaces (Azure stores them as headers)', field);
    }
    const name = key.toLowerCase();
    if (name in metadata) throw invalid('metadata names differ only in case; Azure treats them as one', field);
    metadata[name] = value;
    headers[`${META_PREFIX}${name}`] = value;
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw invalid(`metadata is ${bytes} bytes; Azure allows ${MAX_METADATA_BYTES}`, 'metadata');
  return { headers, metadata, contentType };
}

export function unquote(etag: string | undefined): string | null {
  if (!etag) return null;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || null;
}

/** base64 Content-MD5 -> lower-case hex, or null when absent or not 16 bytes. */
export function md5Hex(base64: string | undefined): string | null {
  if (!base64) return null;
  const raw = Buffer.from(base64, 'base64');
  return raw.length === 16 ? raw.toString('hex') : null;
}

// --- Internal helpers ---

function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function malformed(message: string): MalformedResponseError {
  return new MalformedResponseError(message, { provider: DRIVER_NAME });
}
