import { builder } from '../builder.ts';
import { tryDecodeId, type ResourceType } from '../ids.ts';
import { NotFoundError } from '../providers/errors.ts';
import type { Context } from '../context.ts';

export interface ResourceShape {
  readonly $account: string;
  readonly $region: string | null;
}

/** Set on values returned through the Resource interface so it can tell their type. */
export const RESOURCE_TYPE = Symbol('resourceType');

/** Lookups by global id, registered by each type's file. */
export const resourceResolvers = new Map<ResourceType, (id: string, ctx: Context) => Promise<ResourceShape | null>>();

export const Resource = builder.interfaceRef<ResourceShape>('Resource').implement({
  description: 'Anything with a global id. Ids are opaque and carry the account, region and native id.',
  fields: (t) => ({
    id: t.id({ resolve: () => '' }),
  }),
  resolveType: (value) => (value as unknown as Record<symbol, string>)[RESOURCE_TYPE] ?? null,
});

builder.queryField('resource', (t) =>
  t.field({
    type: Resource,
    nullable: true,
    description: 'Any resource by its global id; null when it no longer exists.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const decoded = tryDecodeId(String(id));
      const lookup = decoded && resourceResolvers.get(decoded.type);
      if (!decoded || !lookup) return null;
      try {
        const value = await lookup(String(id), ctx);
        return value ? Object.assign(value, { [RESOURCE_TYPE]: decoded.type }) : null;
      } catch (err) {
        if (err instanceof NotFoundError) return null;
        throw err;
      }
    },
  }),
);
