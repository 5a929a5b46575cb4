/** Marker/PageSize paging of Describe* answers, with AWS's limits. */
import { fault, type Params } from './protocol.ts';

export function page<T>(items: T[], p: Params, max: number): { items: T[]; nextMarker: string } {
  const size = Math.min(Number(p.get('PageSize') ?? max), max);
  if (!Number.isInteger(size) || size < 1 || size > 400) throw fault('ValidationError', 'PageSize must be between 1 and 400');
  const marker = p.get('Marker');
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString().replace(/^page:/, '')) : 0;
  if (!Number.isInteger(start) || start < 0) throw fault('ValidationError', 'Invalid Marker');
  const end = start + size;
  return { items: items.slice(start, end), nextMarker: end < items.length ? Buffer.from(`page:${end}`).toString('base64url') : '' };
}
