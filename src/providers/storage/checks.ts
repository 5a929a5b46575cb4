/**
 * Input checks and header reading shared by the HTTP storage drivers: listObjects options, byte
 * ranges as a Range header, Content-Length and Content-Range of an answer.
 */
import { InvalidInputError, MalformedResponseError } from '../errors.ts';
import type { ByteRange, ListObjectsOptions } from '../types.ts';

/** listObjects options as given, each checked (a cursor is opaque, but never empty). */
export function checkListOptions(options: ListObjectsOptions | undefined, provider: string): ListObjectsOptions {
  const { prefix, cursor, limit } = options ?? {};
  const invalid = (message: string, field: string) => new InvalidInputError(message, { provider, field });
  if (prefix !== undefined && typeof prefix !== 'string') throw invalid('prefix must be a string', 'prefix');
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw invalid('limit must be a positive integer', 'limit');
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor === '')) throw invalid('cursor is not one this driver returned', 'cursor');
  return { prefix, cursor, limit };
}

/** `{ start: 2, end: 5 }` -> `bytes=2-5` (`bytes=2-` without an end). */
export function rangeHeader(range: ByteRange, provider: string): string {
  const { start, end } = range;
  const invalid = (message: string) => new InvalidInputError(message, { provider, field: 'range' });
  if (!Number.isSafeInteger(start) || start < 0) throw invalid('range.start must be a non-negative integer');
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) throw invalid('range.end must be an integer not below range.start');
  return `bytes=${start}-${end ?? ''}`;
}

/** The answer's Content-Length; MalformedResponseError when it is absent or not a size. */
export function contentLength(headers: Record<string, string>, operation: string, provider: string): number {
  const size = Number(headers['content-length']);
  if (headers['content-length'] === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw new MalformedResponseError(`${operation}: no valid Content-Length`, { provider });
  }
  return size;
}

/** `Content-Range: bytes 2-5/26` -> its numbers; undefined when absent or unreadable. */
export function parseContentRange(value: string | undefined): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return [start, end, total].every(Number.isSafeInteger) && start <= end && end < total ? { start, end, total } : undefined;
}
