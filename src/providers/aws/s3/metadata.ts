/**
 * Content type and user metadata -> request headers. S3 keeps user metadata as `x-amz-meta-*`
 * headers with lower-case names and US-ASCII values, so names are lower-cased here (what a later
 * HEAD reports) and anything a header cannot carry is refused up front, naming the field.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
 */
import { InvalidInputError } from '../../errors.ts';
import type { UploadOptions } from '../../types.ts';
import { DRIVER_NAME } from './client.ts';
import { META_PREFIX } from './mappers.ts';

/** What a PutObject/CreateMultipartUpload sends, and what the upload then reports. */
export interface ObjectHeaders {
  headers: Record<string, string>;
  metadata: Record<string, string>;
  contentType: string;
}

/** S3's default when a PUT names no content type is binary; say so explicitly so HEAD agrees. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** S3 limit on the user metadata of one object (names and values, UTF-8 bytes) */
const MAX_METADATA_BYTES = 2048;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** printable US-ASCII and spaces, no leading or trailing white space (HTTP would trim it) */
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

export function objectHeaders(opts: UploadOptions | undefined): ObjectHeaders {
  const invalid = (message: string, field: string) => new InvalidInputError(message, { provider: DRIVER_NAME, field });
  const contentType = opts?.contentType ?? DEFAULT_CONTENT_TYPE;
  if (typeof contentType !== 'string' || contentType === '' || !HEADER_VALUE.test(contentType)) {
    throw invalid('contentType must be a non-empty single line of printable ASCII', 'contentType');
  }
  const headers: Record<string, string> = { 'content-type': contentType };
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(opts?.metadata ?? {})) {
    const field = `metadata.${key}`;
    if (!TOKEN.test(key)) throw invalid(`metadata names must be HTTP tokens (letters, digits, and !#$%&'*+.^_\`|~-)`, field);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw invalid('metadata values must be printable US-ASCII without leading or trailing spaces (S3 stores them as headers)', field);
    }
    const name = key.toLowerCase();
    if (name in metadata) throw invalid(`metadata names differ only in case; S3 keeps them lower-case`, field);
    metadata[name] = value;
    headers[`${META_PREFIX}${name}`] = value;
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw invalid(`user metadata is ${bytes} bytes; S3 allows ${MAX_METADATA_BYTES}`, 'metadata');
  return { headers, metadata, contentType };
}
