/**
 * Key/value tags on clouds whose tags are plain strings (DigitalOcean, Linode, Vultr): `key:value`
 * carries a pair, a tag without a colon is a key with an empty value.
 */
import { InvalidInputError } from '../errors.ts';

/** `['env:prod', 'web']` -> `{ env: 'prod', web: '' }`; the first colon splits. */
export function tagsFromStrings(tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags) {
    const at = tag.indexOf(':');
    if (at > 0) out[tag.slice(0, at)] = tag.slice(at + 1);
    else if (at === -1) out[tag] = '';
  }
  return out;
}

/**
 * `{ env: 'prod', web: '' }` -> `['env:prod', 'web']`, each checked against the provider's tag
 * syntax (`pattern` and `maxLength` apply to the whole string).
 */
export function tagsToStrings(
  tags: Record<string, string> | undefined,
  rule: { provider: string; pattern: RegExp; maxLength: number; minLength?: number; describe: string },
): string[] {
  if (tags === undefined) return [];
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) throw new InvalidInputError('tags must map names to strings', { provider: rule.provider, field: 'tags' });
  return Object.entries(tags).map(([key, value]) => {
    if (typeof value !== 'string') throw new InvalidInputError(`tags.${key} must be a string`, { provider: rule.provider, field: 'tags' });
    if (key === '' || key.includes(':')) throw new InvalidInputError('tag names must be non-empty and hold no colon (a colon separates name and value)', { provider: rule.provider, field: 'tags' });
    const tag = value === '' ? key : `${key}:${value}`;
    if (tag.length > rule.maxLength || tag.length < (rule.minLength ?? 1) || !rule.pattern.test(tag)) {
      throw new InvalidInputError(`tag ${key} does not fit the provider's tag syntax (${rule.describe})`, { provider: rule.provider, field: 'tags' });
    }
    return tag;
  });
}
