/** Ids the caller passes, as path segments of the bearer clouds' APIs. */
import { InvalidInputError } from '../errors.ts';

/**
 * `id` percent-encoded for a path, refused (field `id`) unless it is a non-empty string of at
 * most 64 characters; `what` names the resource in the error: `a droplet`, `a load balancer`.
 */
export function idPath(id: string, provider: string, what: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 64) throw new InvalidInputError(`id must be ${what} id`, { provider, field: 'id' });
  return encodeURIComponent(id);
}
