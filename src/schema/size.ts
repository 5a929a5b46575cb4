import { builder } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import type { Size as SizeModel } from '../providers/types.ts';
import { scope, selectAccounts, fanOut, type InAccount } from '../resolvers/fan-out.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';
import { throwIfAllFailed } from './errors.ts';

export const Size = builder.objectRef<InAccount<SizeModel>>('Size').implement({
  description: 'A machine size (flavor, instance type) with its price.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (s) => encodeId('Size', s.$account, s.$region, s.id) }),
    nativeId: t.exposeString('id'),
    name: t.exposeString('name'),
    ram: t.exposeInt('ram', { description: 'Memory in MiB.' }),
    disk: t.exposeInt('disk', { description: 'Disk in GB.' }),
    bandwidth: t.exposeInt('bandwidth', { nullable: true }),
    price: t.exposeFloat('price', { nullable: true, description: 'USD per hour; null when unknown.' }),
    region: t.string({ nullable: true, resolve: (s) => s.$region }),
    extra: t.field({ type: JSONScalar, resolve: (s) => s.extra }),
  }),
});

builder.queryField('sizes', (t) =>
  t.field({
    type: [Size],
    description: 'Sizes of one account, across its regions.',
    args: { account: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, [String(args.account)], 'COMPUTE', 'account');
      const result = await fanOut(ctx, accounts, 'sizes', (acct, region) => ctx.loaders.compute(acct.config.id, region).sizes());
      throwIfAllFailed(ctx, result);
      return result.items;
    },
  }),
);

resourceResolvers.set('Size', async (id, ctx) => {
  const d = decodeId(id, 'Size', 'id');
  const size = await ctx.loaders.compute(d.account, d.region).size.load(d.parts[0] ?? '');
  return size ? scope(size, d.account, d.region) : null;
});
