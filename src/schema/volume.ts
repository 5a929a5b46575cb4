/** Block-storage volumes of a compute provider: list, create, attach to a node, detach, delete. */
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';
import { decodeId, encodeId } from '../ids.ts';
import { InvalidInputError, NotFoundError } from '../providers/errors.ts';
import type { Volume as VolumeModel } from '../providers/types.ts';
import type { AccountRuntime } from '../runtime.ts';
import { computeWith, unsupported } from '../resolvers/capability.ts';
import { callAccount, scope, type InAccount } from '../resolvers/fan-out.ts';
import { nativeIdFor, regionFor } from '../resolvers/refs.ts';
import { defineConnection } from './connection.ts';
import { VolumeStateEnum } from './enums.ts';
import { defineList } from './list.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';

/** The volume as the provider lists it now, or NotFoundError. */
async function findVolume(ctx: Context, account: AccountRuntime, region: string | null, volumeId: string): Promise<InAccount<VolumeModel>> {
  computeWith(account, region, 'listVolumes');
  const list = await callAccount(ctx, account, 'volume', () => ctx.loaders.compute(account.config.id, region).current.volumes(), { region });
  const volume = list.find((v) => v.id === volumeId);
  if (!volume) throw new NotFoundError(`volume ${volumeId} not found in account "${account.config.id}"`);
  return scope(volume, account.config.id, region);
}

export const Volume = defineResource<VolumeModel>('Volume', {
  description: 'A block-storage volume that can be attached to a node.',
  idParts: (v) => [v.id],
  nativeId: (v) => v.id,
  load: (ctx, d) => findVolume(ctx, ctx.runtime.account(d.account, 'id'), d.region, d.parts[0] ?? ''),
  fields: (t) => ({
    name: t.exposeString('name'),
    size: t.exposeInt('size', { description: 'GB' }),
    state: t.field({ type: VolumeStateEnum, resolve: (v) => v.state }),
  }),
});

const VolumeFilter = builder.inputType('VolumeFilter', {
  fields: (t) => ({
    accounts: t.idList({ description: 'Only these accounts (all compute accounts with volumes when omitted).' }),
    regions: t.stringList({ description: 'Only these regions.' }),
    states: t.field({ type: [VolumeStateEnum], description: 'Only volumes in one of these states.' }),
    name: t.string({ description: 'Substring of the name, case-insensitive.' }),
  }),
});

defineList({
  field: 'volumes',
  description: 'Block-storage volumes of the compute accounts (capability VOLUMES).',
  service: 'COMPUTE',
  connection: defineConnection('Volume', Volume),
  filter: VolumeFilter,
  unsupported: (account) => (typeof account.compute(account.regions[0] ?? null).listVolumes === 'function' ? undefined : unsupported(account, 'listVolumes')),
  fetch: (ctx, account, region) => ctx.loaders.compute(account.config.id, region).volumes(),
  match: (v, f) => (!f.states || f.states.includes(v.state)) && (!f.name || v.name.toLowerCase().includes(f.name.toLowerCase())),
  identity: (v) => [v.id],
});

function volumeArg(ctx: Context, id: string, argument: string) {
  const d = decodeId(id, 'Volume', argument);
  return { d, account: ctx.runtime.account(d.account, argument), volumeId: d.parts[0] ?? '' };
}

const volumePayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { volume: InAccount<VolumeModel> }>) => ({
  volume: t.field({ type: Volume, resolve: (p) => p.volume }),
});

defineMutation('createVolume', {
  description: 'Creates a volume, empty or from a snapshot.',
  input: (t) => ({
    account: t.id({ required: true }),
    region: t.string({ description: 'Required when the account has several regions; defaults to its only one.' }),
    name: t.string({ required: true }),
    size: t.int({ required: true, description: 'GB' }),
    location: t.id({ description: "A Location id, or the provider's native location (availability zone) id." }),
    snapshot: t.id({ description: 'A VolumeSnapshot id to create the volume from.' }),
  }),
  payload: volumePayload,
  resolve: async (input, ctx) => {
    const account = ctx.runtime.account(String(input.account), 'input.account');
    const region = regionFor(account, input.region, 'input.region');
    if (!input.name.trim()) throw new InvalidInputError('argument "input.name" must not be empty', { field: 'input.name' });
    if (!Number.isInteger(input.size) || input.size < 1) throw new InvalidInputError('argument "input.size" must be a positive number of GB', { field: 'input.size' });
    const id = account.config.id;
    let snapshotId: string | undefined;
    if (input.snapshot) {
      const s = decodeId(String(input.snapshot), 'VolumeSnapshot', 'input.snapshot');
      if (s.account !== id) throw new InvalidInputError(`argument "input.snapshot" belongs to account "${s.account}", not "${id}"`, { field: 'input.snapshot' });
      snapshotId = s.parts[1];
    }
    const driver = computeWith(account, region, 'createVolume');
    const request = {
      name: input.name,
      size: input.size,
      locationId: input.location ? nativeIdFor(String(input.location), 'Location', id, 'input.location') : undefined,
      snapshotId,
    };
    const volume = await callAccount(ctx, account, 'createVolume', () => driver.createVolume(request), { region, mutates: true });
    return { volume: scope(volume, id, region) };
  },
});

defineMutation('attachVolume', {
  description: 'Attaches a volume to a node of the same account and region.',
  input: (t) => ({
    volume: t.id({ required: true }),
    node: t.id({ required: true }),
    device: t.string({ description: 'e.g. /dev/sdf; the provider picks one when omitted.' }),
  }),
  payload: volumePayload,
  resolve: async (input, ctx) => {
    const { d, account, volumeId } = volumeArg(ctx, String(input.volume), 'input.volume');
    const n = decodeId(String(input.node), 'Node', 'input.node');
    if (n.account !== d.account || n.region !== d.region) {
      throw new InvalidInputError('argument "input.node" must be in the same account and region as the volume', { field: 'input.node' });
    }
    const driver = computeWith(account, d.region, 'attachVolume', 'listVolumes');
    await callAccount(ctx, account, 'attachVolume', () => driver.attachVolume(n.parts[0] ?? '', volumeId, input.device ?? undefined), {
      region: d.region,
      mutates: true,
    });
    return { volume: await findVolume(ctx, account, d.region, volumeId) };
  },
});

defineMutation('detachVolume', {
  description: 'Detaches a volume from the node it is attached to.',
  input: (t) => ({ volume: t.id({ required: true }) }),
  payload: volumePayload,
  resolve: async (input, ctx) => {
    const { d, account, volumeId } = volumeArg(ctx, String(input.volume), 'input.volume');
    const driver = computeWith(account, d.region, 'detachVolume', 'listVolumes');
    await callAccount(ctx, account, 'detachVolume', () => driver.detachVolume(volumeId), { region: d.region, mutates: true });
    return { volume: await findVolume(ctx, account, d.region, volumeId) };
  },
});

defineMutation('deleteVolume', {
  description: 'Deletes a volume; it must not be attached.',
  input: (t) => ({ id: t.id({ required: true, description: 'The Volume id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const { d, account, volumeId } = volumeArg(ctx, String(input.id), 'input.id');
    const driver = computeWith(account, d.region, 'destroyVolume');
    await callAccount(ctx, account, 'deleteVolume', () => driver.destroyVolume(volumeId), { region: d.region, mutates: true });
    return { deletedId: encodeId('Volume', d.account, d.region, volumeId) };
  },
});
