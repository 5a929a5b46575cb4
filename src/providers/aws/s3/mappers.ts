/**
 * S3 responses -> skygraph models: object headers (HEAD/GET), ListObjectsV2 entries, buckets.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
import { MalformedResponseError } from '../../errors.ts';
import type { Container, Extra, StorageObject } from '../../types.ts';
import { DRIVER_NAME } from './client.ts';

export const META_PREFIX = 'x-amz-meta-';

/** One `<Contents>` of a ListObjectsV2 result, as the XML parser gives it. */
export interface ListEntry {
  Key?: string;
  LastModified?: string;
  ETag?: string;
  Size?: string;
  StorageClass?: string;
}

/** One `<Bucket>` of a ListBuckets result. */
export interface BucketEntry {
  Name?: string;
  CreationDate?: string;
  BucketRegion?: string;
}

/** A StorageObject from HEAD/GET response headers; `size` is the whole object's. */
export function toObjectFromHeaders(container: string, name: string, headers: Record<string, string>, size: number): StorageObject {
  const metadata: Record<string, string> = {};
  for (const [header, value] of Object.entries(headers)) {
    if (header.startsWith(META_PREFIX)) metadata[header.slice(META_PREFIX.length)] = value;
  }
  const etag = unquote(headers['etag']);
  const extra: Extra = {};
  if (etag !== null) extra.etag = etag;
  copyHeader(headers, extra, 'x-amz-storage-class', 'storageClass');
  copyHeader(headers, extra, 'x-amz-version-id', 'versionId');
  copyHeader(headers, extra, 'x-amz-server-side-encryption', 'serverSideEncryption');
  copyHeader(headers, extra, 'x-amz-mp-parts-count', 'partsCount');
  return {
    container,
    name,
    size,
    hash: etag,
    contentType: headers['content-type'] ?? null,
    lastModified: parseDate(headers['last-modified']),
    metadata,
    extra,
  };
}

export function toObjectFromListEntry(container: string, entry: ListEntry, decode: (s: string) => string): StorageObject {
  const size = Number(entry.Size);
  if (typeof entry.Key !== 'string' || entry.Key === '' || !Number.isSafeInteger(size) || size < 0) {
    throw new MalformedResponseError('ListObjectsV2: a <Contents> entry lacks a Key or a valid Size', { provider: DRIVER_NAME });
  }
  const etag = unquote(entry.ETag);
  const extra: Extra = {};
  if (etag !== null) extra.etag = etag;
  if (entry.StorageClass) extra.storageClass = entry.StorageClass;
  return {
    container,
    name: decode(entry.Key),
    size,
    hash: etag,
    contentType: null,
    lastModified: parseDate(entry.LastModified),
    metadata: {},
    extra,
  };
}

/** Buckets have no cheap object count or size in S3: both stay null. */
export function toContainer(name: string, extra: Extra): Container {
  return { name, objectCount: null, bytes: null, extra };
}

export function toContainerFromEntry(entry: BucketEntry): Container {
  if (typeof entry.Name !== 'string' || entry.Name === '') {
    throw new MalformedResponseError('ListBuckets: a <Bucket> entry lacks a Name', { provider: DRIVER_NAME });
  }
  const extra: Extra = {};
  const created = parseDate(entry.CreationDate);
  if (created) extra.createdAt = created.toISOString();
  if (entry.BucketRegion) extra.region = entry.BucketRegion;
  return toContainer(entry.Name, extra);
}

/** `"abc"` -> `abc`; also W/ weak prefixes. */
export function unquote(etag: string | undefined): string | null {
  if (etag === undefined || etag === '') return null;
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

// --- Internal helpers ---

function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function copyHeader(headers: Record<string, string>, extra: Extra, header: string, field: string): void {
  const value = headers[header];
  if (value !== undefined && value !== '') extra[field] = value;
}
