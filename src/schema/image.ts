import { builder } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { Image as ImageModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { scope, selectAccounts, fanOut, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';

export const Image = builder.objectRef<InAccount<ImageModel>>('Image').implement({
  description: 'A machine image a node can boot from.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (i) => encodeId('Image', i.$account, i.$region, i.id) }),
    nativeId: t.exposeString('id', { description: "The provider's own id." }),
    name: t.exposeString('name'),
    region: t.string({ nullable: true, resolve: (i) => i.$region }),
    extra: t.field({ type: JSONScalar, resolve: (i) => i.extra }),
  }),
});

export const ImageFilterInput = builder.inputType('ImageFilter', {
  fields: (t) => ({
    owner: t.string({ description: 'Owner (account id or alias such as "self", "amazon"); the default is the provider\'s own sensible set, not the whole public catalogue.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
    region: t.string({ description: 'Only this region of the account.' }),
  }),
});

export const ImageConnection = defineConnection('Image', Image);

builder.queryField('images', (t) =>
  t.field({
    type: ImageConnection,
    description: 'Images of one account, across its regions.',
    args: {
      account: t.arg.id({ required: true }),
      filter: t.arg({ type: ImageFilterInput }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const [account] = selectAccounts(ctx, [String(args.account)], 'COMPUTE', 'account');
      const filter = args.filter ?? {};
      const regionFilter = filter.region;
      const { items, failures } = await fanOut(ctx, [account!], 'images', async (acct, region) => {
        if (regionFilter && region !== regionFilter) return [];
        const list = await acct.compute(region).listImages({ owner: filter.owner ?? undefined, name: filter.name ?? undefined });
        const needle = filter.name?.toLowerCase();
        return needle ? list.filter((i) => i.name.toLowerCase().includes(needle)) : list;
      });
      return { ...paginate(items, (i) => [i.$region ?? '', i.id], args.first, args.after), failures };
    },
  }),
);

resourceResolvers.set('Image', async (id, ctx) => {
  const d = decodeId(id, 'Image', 'id');
  const image = await ctx.loaders.compute(d.account, d.region).image.load(d.parts[0] ?? '');
  return image ? scope(image, d.account, d.region) : null;
});

builder.mutationField('createImage', (t) =>
  t.field({
    type: Image,
    description: "Makes an image from a node's disk (a snapshot image), in the node's account and region.",
    args: { node: t.arg.id({ required: true }), name: t.arg.string({ required: true }), description: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const n = decodeId(String(args.node), 'Node', 'node');
      const account = ctx.runtime.account(n.account, 'node');
      const driver = computeWith(account, n.region, 'createImage');
      const image = await withDeadline(account, 'createImage', () => driver.createImage(n.parts[0] ?? '', args.name, args.description ?? undefined));
      return scope(image, n.account, n.region);
    },
  }),
);

builder.mutationField('copyImage', (t) =>
  t.field({
    type: Image,
    description: "Copies an image into another region of the image's account.",
    args: { image: t.arg.id({ required: true }), region: t.arg.string({ required: true }), name: t.arg.string({ required: true }), description: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.image), 'Image', 'image');
      const account = ctx.runtime.account(d.account, 'image');
      if (d.region === null) throw new InvalidInputError('argument "image" is in an account without regions', { field: 'image' });
      const region = regionFor(account, args.region, 'region');
      const driver = computeWith(account, region, 'copyImage');
      const image = await withDeadline(account, 'copyImage', () => driver.copyImage(d.region!, d.parts[0] ?? '', args.name, args.description ?? undefined));
      return scope(image, d.account, region);
    },
  }),
);

builder.mutationField('deleteImage', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'Image', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      const driver = computeWith(account, d.region, 'deleteImage');
      await withDeadline(account, 'deleteImage', () => driver.deleteImage(d.parts[0] ?? ''));
      return true;
    },
  }),
);
