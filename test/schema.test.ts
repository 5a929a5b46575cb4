import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';

describe('schema', () => {
  it('matches the committed schema.graphql (run `npm run schema:print` after changing types)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(printSchema(schema) + '\n').toBe(committed);
  });

  it('names the eight resource types and the Resource interface', () => {
    for (const name of ['Node', 'Image', 'Size', 'Location', 'Container', 'Object', 'LoadBalancer', 'Member']) {
      const type = schema.getType(name);
      expect(type, name).toBeDefined();
      expect((type as unknown as { getInterfaces(): { name: string }[] }).getInterfaces().map((i) => i.name)).toContain('Resource');
    }
  });
});
