/** Key/value labels (EC2 tags, OpenStack server metadata): the output type and the inputs. */
import { builder } from '../builder.ts';
import { InvalidInputError } from '../providers/errors.ts';

export const Tag = builder.objectRef<{ key: string; value: string }>('Tag').implement({
  description: 'A key/value label on a resource.',
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const TagFilter = builder.inputType('TagFilter', {
  fields: (t) => ({
    key: t.string({ required: true }),
    value: t.string({ description: 'The exact value; without it, any resource that has the key matches.' }),
  }),
});

export const TagInput = builder.inputType('TagInput', {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

/** Tags as a sorted list, for output. */
export function tagList(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

/** Whether `tags` carries every filter (a filter without a value asks only for the key). */
export function matchesTags(tags: Record<string, string>, filters: readonly { key: string; value?: string | null }[]): boolean {
  return filters.every((f) => Object.hasOwn(tags, f.key) && (f.value == null || tags[f.key] === f.value));
}

/** Tag inputs as a record; an empty or repeated key is refused, naming the argument. */
export function tagRecord(inputs: readonly { key: string; value: string }[], argument: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of inputs) {
    if (!key.trim()) throw new InvalidInputError(`argument "${argument}" has a tag with an empty key`, { field: argument });
    if (Object.hasOwn(out, key)) throw new InvalidInputError(`argument "${argument}" names tag "${key}" twice`, { field: argument });
    out[key] = value;
  }
  return out;
}
