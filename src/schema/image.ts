import { builder, type Types } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError } from '../providers/errors.ts';
import type { Image as ImageModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { callAccount, scope, type InAccount } from '../resolvers/fan-out.ts';
import { regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { defineList } from './list.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';

export const Image = defineResource<ImageModel>('Image', {
  description: 'A machine image a node can boot from.',
  idParts: (i) => [i.id],
  nativeId: (i) => i.id,
  load: async (ctx, d) => {
    const account = ctx.runtime.account(d.account, 'id');
    const image = await callAccount(ctx, account, 'image', () => ctx.loaders.compute(d.account, d.region).image.load(d.parts[0] ?? ''), { region: d.region });
    return image ? scope(image, d.account, d.region) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name'),
  }),
});

export const ImageFilterInput = builder.inputType('ImageFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    owner: t.string({
      description: 'Owner (account id or alias such as "self", "amazon"); the default is the provider\'s own sensible set, not the whole public catalogue.',
    }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

export const ImageConnection = defineConnection('Image', Image);

defineList({
  field: 'images',
  description: 'Images the compute accounts offer.',
  service: 'COMPUTE',
  connection: ImageConnection,
  filter: ImageFilterInput,
  fetch: (ctx, account, region, f) => ctx.loaders.compute(account.config.id, region).images({ owner: f?.owner ?? undefined, name: f?.name ?? undefined }),
  upstreamFilter: (f) => ({ owner: f?.owner ?? undefined, name: f?.name ?? undefined }),
  match: (i, f) => !f.name || i.name.toLowerCase().includes(f.name.toLowerCase()),
  identity: (i) => [i.id],
});

type ImagePayload = { image: InAccount<ImageModel> };
const imagePayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, ImagePayload>) => ({
  image: t.field({ type: Image, resolve: (p) => p.image }),
});

defineMutation('createImage', {
  description: "Makes an image from a node's disk (a snapshot image), in the node's account and region.",
  input: (t) => ({ node: t.id({ required: true }), name: t.string({ required: true }), description: t.string() }),
  payload: imagePayload,
  resolve: async (input, ctx) => {
    const n = decodeId(String(input.node), 'Node', 'input.node');
    const account = ctx.runtime.account(n.account, 'input.node');
    const driver = computeWith(account, n.region, 'createImage');
    const image = await callAccount(ctx, account, 'createImage', () => driver.createImage(n.parts[0] ?? '', input.name, input.description ?? undefined), {
      region: n.region,
      mutates: true,
    });
    return { image: scope(image, n.account, n.region) };
  },
});

defineMutation('copyImage', {
  description: "Copies an image into another region of the image's account.",
  input: (t) => ({
    image: t.id({ required: true }),
    region: t.string({ required: true, description: 'The destination region.' }),
    name: t.string({ required: true }),
    description: t.string(),
  }),
  payload: imagePayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.image), 'Image', 'input.image');
    const account = ctx.runtime.account(d.account, 'input.image');
    if (d.region === null) throw new InvalidInputError('argument "input.image" is in an account without regions', { field: 'input.image' });
    const region = regionFor(account, input.region, 'input.region');
    const driver = computeWith(account, region, 'copyImage');
    const image = await callAccount(ctx, account, 'copyImage', () => driver.copyImage(d.region!, d.parts[0] ?? '', input.name, input.description ?? undefined), {
      region,
      mutates: true,
    });
    return { image: scope(image, d.account, region) };
  },
});

defineMutation('deleteImage', {
  description: 'Deletes (deregisters) an image the account owns.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Image id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'Image', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    const driver = computeWith(account, d.region, 'deleteImage');
    await callAccount(ctx, account, 'deleteImage', () => driver.deleteImage(d.parts[0] ?? ''), { region: d.region, mutates: true });
    return { deletedId: encodeId('Image', d.account, d.region, d.parts[0] ?? '') };
  },
});
