import { builder } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import type { Location as LocationModel } from '../providers/types.ts';
import { scope, selectAccounts, fanOut, type InAccount } from '../resolvers/fan-out.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';
import { throwIfAllFailed } from './errors.ts';

export const Location = builder.objectRef<InAccount<LocationModel>>('Location').implement({
  description: 'Where a node runs: a zone, datacenter or region.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (l) => encodeId('Location', l.$account, l.$region, l.id) }),
    nativeId: t.exposeString('id'),
    name: t.exposeString('name'),
    country: t.exposeString('country'),
    region: t.string({ nullable: true, resolve: (l) => l.$region }),
    extra: t.field({ type: JSONScalar, resolve: (l) => l.extra }),
  }),
});

builder.queryField('locations', (t) =>
  t.field({
    type: [Location],
    description: 'Locations of one account, across its regions.',
    args: { account: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, [String(args.account)], 'COMPUTE', 'account');
      const result = await fanOut(ctx, accounts, 'locations', (acct, region) => ctx.loaders.compute(acct.config.id, region).locations());
      throwIfAllFailed(ctx, result);
      return result.items;
    },
  }),
);

resourceResolvers.set('Location', async (id, ctx) => {
  const d = decodeId(id, 'Location', 'id');
  const location = await ctx.loaders.compute(d.account, d.region).location.load(d.parts[0] ?? '');
  return location ? scope(location, d.account, d.region) : null;
});
