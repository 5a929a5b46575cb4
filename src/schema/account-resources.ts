/** The Account type's own resource fields: the same lists as the root fields, for one account. */
import { builder } from '../builder.ts';
import { fanOut } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { Account } from './account.ts';
import { ContainerConnection } from './container.ts';
import { throwIfAllFailed } from './errors.ts';
import { ImageConnection, ImageFilterInput } from './image.ts';
import { LoadBalancerConnection } from './load-balancer.ts';
import { Location } from './location.ts';
import { listNodes, NodeConnection } from './node.ts';
import { Size } from './size.ts';
import { UnsupportedError } from '../providers/errors.ts';
import type { AccountRuntime } from '../runtime.ts';
import type { Service } from '../providers/types.ts';

function require(account: AccountRuntime, service: Service) {
  if (!account.definition.services.includes(service)) {
    throw new UnsupportedError(`account "${account.config.id}" (driver ${account.definition.name}) has no ${service} service`);
  }
}

builder.objectFields(Account, (t) => ({
  nodes: t.field({
    type: NodeConnection,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (a, args, ctx) => {
      require(a, 'COMPUTE');
      const { items, failures } = await listNodes(ctx, [a.config.id]);
      return { ...paginate(items, (n) => [n.$region ?? '', n.id], args.first, args.after), failures };
    },
  }),
  images: t.field({
    type: ImageConnection,
    args: { filter: t.arg({ type: ImageFilterInput }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (a, args, ctx) => {
      require(a, 'COMPUTE');
      const { items, failures } = await fanOut(ctx, [a], 'images', (acct, region) =>
        acct.compute(region).listImages({ owner: args.filter?.owner ?? undefined, name: args.filter?.name ?? undefined }),
      );
      return { ...paginate(items, (i) => [i.$region ?? '', i.id], args.first, args.after), failures };
    },
  }),
  sizes: t.field({
    type: [Size],
    resolve: async (a, _args, ctx) => {
      require(a, 'COMPUTE');
      const result = await fanOut(ctx, [a], 'sizes', (acct, region) => ctx.loaders.compute(acct.config.id, region).sizes());
      throwIfAllFailed(ctx, result);
      return result.items;
    },
  }),
  locations: t.field({
    type: [Location],
    resolve: async (a, _args, ctx) => {
      require(a, 'COMPUTE');
      const result = await fanOut(ctx, [a], 'locations', (acct, region) => ctx.loaders.compute(acct.config.id, region).locations());
      throwIfAllFailed(ctx, result);
      return result.items;
    },
  }),
  containers: t.field({
    type: ContainerConnection,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (a, args, ctx) => {
      require(a, 'STORAGE');
      const { items, failures } = await fanOut(ctx, [a], 'containers', (acct, region) => ctx.loaders.storage(acct.config.id, region).containers());
      return { ...paginate(items, (c) => [c.$region ?? '', c.name], args.first, args.after), failures };
    },
  }),
  loadBalancers: t.field({
    type: LoadBalancerConnection,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (a, args, ctx) => {
      require(a, 'LOADBALANCER');
      const { items, failures } = await fanOut(ctx, [a], 'loadBalancers', (acct, region) => ctx.loaders.loadBalancer(acct.config.id, region).balancers());
      return { ...paginate(items, (b) => [b.$region ?? '', b.id], args.first, args.after), failures };
    },
  }),
}));
