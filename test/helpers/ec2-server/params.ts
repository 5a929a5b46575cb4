/** Query-API lists in request parameters: `Name.N`, filters, tag specifications. */

export function numbered(q: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; q.has(`${name}.${i}`); i++) out.push(q.get(`${name}.${i}`)!);
  return out;
}

export function filters(q: URLSearchParams): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; q.has(`Filter.${i}.Name`); i++) out.push({ name: q.get(`Filter.${i}.Name`)!, values: numbered(q, `Filter.${i}.Value`) });
  return out;
}

export function specTags(q: URLSearchParams, resourceType: string): Map<string, string> {
  const tags = new Map<string, string>();
  if (q.get('TagSpecification.1.ResourceType') !== resourceType) return tags;
  for (let i = 1; q.has(`TagSpecification.1.Tag.${i}.Key`); i++) tags.set(q.get(`TagSpecification.1.Tag.${i}.Key`)!, q.get(`TagSpecification.1.Tag.${i}.Value`) ?? '');
  return tags;
}
