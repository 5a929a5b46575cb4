/** Block-storage volumes of a compute provider: list, create, attach to a node, detach, destroy. */
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Volume as VolumeModel } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';
import { computeWith } from '../resolvers/capability.ts';
import { fanOut, scope, selectAccounts, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { nativeIdFor, regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { JSONScalar } from './scalars.ts';

export const Volume = builder.objectRef<InAccount<VolumeModel>>('Volume').implement({
  description: 'A block-storage volume that can be attached to a node.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (v) => encodeId('Volume', v.$account, v.$region, v.id) }),
    nativeId: t.exposeString('id', { description: "The provider's own id." }),
    name: t.exposeString('name'),
    size: t.exposeInt('size', { description: 'GB' }),
    state: t.exposeString('state', { description: "The provider's state, e.g. creating, available, inuse." }),
    region: t.string({ nullable: true, resolve: (v) => v.$region }),
    extra: t.field({ type: JSONScalar, description: 'Provider-specific fields (zone, attachment, device, ...).', resolve: (v) => v.extra }),
  }),
});

const VolumeConnection = defineConnection('Volume', Volume);

/** The volume as the provider lists it now, or NotFoundError. */
export async function findVolume(account: AccountRuntime, region: string | null, volumeId: string): Promise<InAccount<VolumeModel>> {
  const driver = computeWith(account, region, 'listVolumes');
  const volume = (await withDeadline(account, 'listVolumes', () => driver.listVolumes())).find((v) => v.id === volumeId);
  if (!volume) throw new NotFoundError(`volume ${volumeId} not found in account "${account.config.id}"`);
  return scope(volume, account.config.id, region);
}

function volumeArg(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'Volume', argument);
  return { d, account: ctx.runtime.account(d.account, argument), volumeId: d.parts[0] ?? '' };
}

builder.queryField('volumes', (t) =>
  t.field({
    type: VolumeConnection,
    description: 'Volumes of one account, across its regions.',
    args: { account: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const accounts = selectAccounts(ctx, [String(args.account)], 'COMPUTE', 'account');
      // why: a driver without volumes is one clear UNSUPPORTED error, not a failure per region
      computeWith(accounts[0]!, accounts[0]!.regions[0] ?? null, 'listVolumes');
      const { items, failures } = await fanOut(ctx, accounts, 'listVolumes', (acct, region) => computeWith(acct, region, 'listVolumes').listVolumes());
      return { ...paginate(items, (v) => [v.$region ?? '', v.id], args.first, args.after), failures };
    },
  }),
);

const CreateVolumeInput = builder.inputType('CreateVolumeInput', {
  fields: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
    size: t.int({ required: true, description: 'GB' }),
    location: t.id({ description: 'A Location id, or the provider\'s native location (availability zone) id.' }),
    snapshot: t.id({ description: 'A VolumeSnapshot id to create the volume from.' }),
  }),
});

builder.mutationField('createVolume', (t) =>
  t.field({
    type: Volume,
    args: { input: t.arg({ type: CreateVolumeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const account = ctx.runtime.account(String(input.account), 'input.account');
      const region = regionFor(account, input.region, 'input.region');
      if (!input.name.trim()) throw new InvalidInputError('argument "input.name" must not be empty', { field: 'input.name' });
      const id = account.config.id;
      let snapshotId: string | undefined;
      if (input.snapshot) {
        const s = decodeId(String(input.snapshot), 'VolumeSnapshot', 'input.snapshot');
        if (s.account !== id) throw new InvalidInputError(`argument "input.snapshot" belongs to account "${s.account}", not "${id}"`, { field: 'input.snapshot' });
        snapshotId = s.parts[1];
      }
      const driver = computeWith(account, region, 'createVolume');
      const volume = await withDeadline(account, 'createVolume', () =>
        driver.createVolume({
          name: input.name,
          size: input.size,
          locationId: input.location ? nativeIdFor(String(input.location), 'Location', id, 'input.location') : undefined,
          snapshotId,
        }),
      );
      return scope(volume, id, region);
    },
  }),
);

builder.mutationField('attachVolume', (t) =>
  t.field({
    type: Volume,
    description: 'Attaches a volume to a node of the same account and region.',
    args: { volume: t.arg.id({ required: true }), node: t.arg.id({ required: true }), device: t.arg.string({ description: 'e.g. /dev/sdf; the provider picks one when omitted.' }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, volumeId } = volumeArg(ctx, String(args.volume), 'volume');
      const n = decodeId(String(args.node), 'Node', 'node');
      if (n.account !== d.account || n.region !== d.region) {
        throw new InvalidInputError('argument "node" must be in the same account and region as the volume', { field: 'node' });
      }
      const driver = computeWith(account, d.region, 'attachVolume', 'listVolumes');
      await withDeadline(account, 'attachVolume', () => driver.attachVolume(n.parts[0] ?? '', volumeId, args.device ?? undefined));
      return findVolume(account, d.region, volumeId);
    },
  }),
);

builder.mutationField('detachVolume', (t) =>
  t.field({
    type: Volume,
    args: { volume: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, volumeId } = volumeArg(ctx, String(args.volume), 'volume');
      const driver = computeWith(account, d.region, 'detachVolume', 'listVolumes');
      await withDeadline(account, 'detachVolume', () => driver.detachVolume(volumeId));
      return findVolume(account, d.region, volumeId);
    },
  }),
);

builder.mutationField('destroyVolume', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { d, account, volumeId } = volumeArg(ctx, String(args.id), 'id');
      const driver = computeWith(account, d.region, 'destroyVolume');
      await withDeadline(account, 'destroyVolume', () => driver.destroyVolume(volumeId));
      return true;
    },
  }),
);

resourceResolvers.set('Volume', async (id, ctx) => {
  const { d, account, volumeId } = volumeArg(ctx, id, 'id');
  return findVolume(account, d.region, volumeId);
});
