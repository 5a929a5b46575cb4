/**
 * The Resource interface and `defineResource`, the one place every resource type gets its global
 * id, nativeId, region, account link and extra, and its lookup for `resource(id)`.
 */
import type { FieldMap } from '@pothos/core';
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId, tryDecodeId, type DecodedId, type ResourceType } from '../ids.ts';
import { NotFoundError } from '../providers/errors.ts';
import type { InAccount } from '../resolvers/fan-out.ts';
import type { AccountRuntime } from '../runtime.ts';
import { Account } from './account.ts';
import { JSONScalar } from './scalars.ts';

export interface ResourceShape {
  readonly $account: string;
  readonly $region: string | null;
  readonly extra: Record<string, unknown>;
}

/** Set on values returned through the Resource interface so it can tell their type. */
export const RESOURCE_TYPE = Symbol('resourceType');

/** Lookups by global id, registered by defineResource. */
const resourceResolvers = new Map<ResourceType, (ctx: Context, d: DecodedId) => Promise<ResourceShape | null>>();

export const Resource = builder.interfaceRef<ResourceShape>('Resource').implement({
  description: 'Anything with a global id. Ids are opaque and carry the account, region and native id.',
  fields: (t) => ({
    id: t.id({ resolve: () => '' }),
    nativeId: t.string({ description: "The provider's own id.", resolve: () => '' }),
    region: t.string({ nullable: true, description: 'The account region it lives in; null for providers without regions.', resolve: (r) => r.$region }),
    account: t.field({ type: Account, description: 'The configured account it belongs to.', resolve: (r, _a, ctx) => accountOf(ctx, r) }),
    extra: t.field({ type: JSONScalar, description: 'Provider-specific fields.', resolve: (r) => r.extra }),
  }),
  resolveType: (value) => (value as unknown as Record<symbol, string>)[RESOURCE_TYPE] ?? null,
});

function accountOf(ctx: Context, r: ResourceShape): AccountRuntime {
  return ctx.runtime.account(r.$account);
}

export interface ResourceOptions<T extends { extra: Record<string, unknown> }> {
  description: string;
  /** the native id parts the global id carries (after type, account and region) */
  idParts: (value: InAccount<T>) => string[];
  /** the provider's own id of the resource */
  nativeId: (value: InAccount<T>) => string;
  /** the resource by decoded id, for `resource(id)`; null or NotFoundError when it is gone */
  load?: (ctx: Context, d: DecodedId) => Promise<InAccount<T> | null>;
  fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, InAccount<T>>) => FieldMap;
}

/** Defines a resource type: its own fields plus id, nativeId, region, account and extra. */
export function defineResource<T extends { extra: Record<string, unknown> }>(name: ResourceType, opts: ResourceOptions<T>) {
  const ref = builder.objectRef<InAccount<T>>(name);
  ref.implement({
    description: opts.description,
    // why: InAccount<T> is a ResourceShape for every T defineResource accepts; Pothos cannot see it generically
    interfaces: [Resource] as never,
    fields: (t) => ({
      id: t.id({ resolve: (v) => encodeId(name, v.$account, v.$region, ...opts.idParts(v)) }),
      nativeId: t.string({ description: "The provider's own id.", resolve: (v) => opts.nativeId(v) }),
      region: t.string({ nullable: true, description: 'The account region it lives in; null for providers without regions.', resolve: (v) => v.$region }),
      account: t.field({ type: Account, description: 'The configured account it belongs to.', resolve: (v, _a, ctx) => accountOf(ctx, v) }),
      extra: t.field({ type: JSONScalar, description: 'Provider-specific fields.', resolve: (v) => v.extra }),
      ...opts.fields(t),
    }),
  });
  const { load } = opts;
  if (load) resourceResolvers.set(name, load);
  return ref;
}

/** Loads a resource by global id of the expected type (null when it no longer exists). */
export async function loadResource(ctx: Context, id: string, type: ResourceType, argument = 'id'): Promise<ResourceShape | null> {
  const d = decodeId(id, type, argument);
  const lookup = resourceResolvers.get(type);
  if (!lookup) return null;
  try {
    return await lookup(ctx, d);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

builder.queryField('resource', (t) =>
  t.field({
    type: Resource,
    nullable: true,
    description: 'Any resource by its global id; null when it no longer exists.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const decoded = tryDecodeId(String(id));
      if (!decoded || !resourceResolvers.has(decoded.type)) return null;
      const value = await loadResource(ctx, String(id), decoded.type);
      return value ? Object.assign(value, { [RESOURCE_TYPE]: decoded.type }) : null;
    },
  }),
);
