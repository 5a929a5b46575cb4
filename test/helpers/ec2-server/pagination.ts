/** MaxResults/NextToken paging, with EC2's limits and the server's own page-size cap. */
import { Fault } from './routing.ts';

export function paginate<T>(q: URLSearchParams, all: readonly T[], pageCap: number): { slice: T[]; nextToken: string } {
  const max = q.get('MaxResults');
  if (max !== null && !(/^\d+$/.test(max) && +max >= 5 && +max <= 1000)) throw new Fault(400, 'InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  const token = q.get('NextToken');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString().replace(/^offset:/, ''));
  if (!Number.isInteger(start) || start < 0 || start > all.length) throw new Fault(400, 'InvalidParameterValue', 'The pagination token is invalid.');
  const size = Math.min(max === null ? Infinity : +max, pageCap);
  const end = Math.min(all.length, start + size);
  return { slice: all.slice(start, end), nextToken: end < all.length ? `<nextToken>${Buffer.from(`offset:${end}`).toString('base64url')}</nextToken>` : '' };
}
