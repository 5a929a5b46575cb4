/** Point-in-time snapshots of a volume; a new volume can be created from one. */
import { builder, type Types } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import type { VolumeSnapshot as SnapshotModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { callAccount, pathOf, recordFailure, scope, type InAccount } from '../resolvers/fan-out.ts';
import { paginate } from '../resolvers/paginate.ts';
import { defineConnection, emptyConnection } from './connection.ts';
import { SnapshotStateEnum } from './enums.ts';
import { defineMutation, deletedPayload } from './mutation.ts';
import { defineResource } from './resource.ts';
import { DateTimeScalar } from './scalars.ts';

type Snapshot = SnapshotModel & { volumeId: string };

export const VolumeSnapshot = defineResource<Snapshot>('VolumeSnapshot', {
  description: 'A snapshot of a volume.',
  idParts: (s) => [s.volumeId, s.id],
  nativeId: (s) => s.id,
  load: async (ctx, d) => {
    const account = ctx.runtime.account(d.account, 'id');
    const [volumeId = '', snapshotId = ''] = d.parts;
    computeWith(account, d.region, 'listVolumeSnapshots');
    const list = await callAccount(ctx, account, 'volumeSnapshot', () => ctx.loaders.compute(d.account, d.region).current.snapshots(volumeId), { region: d.region });
    const found = list.find((s) => s.id === snapshotId);
    return found ? scope({ ...found, volumeId }, d.account, d.region) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name', { nullable: true }),
    size: t.exposeInt('size', { description: 'GB' }),
    state: t.field({ type: SnapshotStateEnum, resolve: (s) => s.state }),
    createdAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (s) => s.createdAt }),
  }),
});

const VolumeSnapshotConnection = defineConnection('VolumeSnapshot', VolumeSnapshot);

// why: a root field, not Volume.snapshots: drivers list snapshots one volume at a time, and a
// field on every listed volume would make one upstream call per volume
builder.queryField('volumeSnapshots', (t) =>
  t.field({
    type: VolumeSnapshotConnection,
    description: 'Snapshots of one volume (capability VOLUME_SNAPSHOTS); a failing account is listed in `failures`.',
    args: { volume: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string(), last: t.arg.int(), before: t.arg.string() },
    resolve: async (_root, args, ctx, info) => {
      const d = decodeId(String(args.volume), 'Volume', 'volume');
      const account = ctx.runtime.account(d.account, 'volume');
      const volumeId = d.parts[0] ?? '';
      computeWith(account, d.region, 'listVolumeSnapshots');
      let list: readonly SnapshotModel[];
      try {
        list = await callAccount(ctx, account, 'volumeSnapshots', () => ctx.loaders.compute(d.account, d.region).snapshots(volumeId), { region: d.region });
      } catch (err) {
        return emptyConnection<InAccount<Snapshot>>([recordFailure(ctx, account, d.region, pathOf(info), err)]);
      }
      const items = list.map((s) => scope({ ...s, volumeId }, d.account, d.region));
      return { ...paginate(items, { tag: 'volumeSnapshots', key: (s) => [s.id] }, args), failures: [] };
    },
  }),
);

const snapshotPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, { snapshot: InAccount<Snapshot> }>) => ({
  snapshot: t.field({ type: VolumeSnapshot, resolve: (p) => p.snapshot }),
});

defineMutation('createVolumeSnapshot', {
  description: 'Takes a snapshot of a volume.',
  input: (t) => ({ volume: t.id({ required: true }), name: t.string() }),
  payload: snapshotPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.volume), 'Volume', 'input.volume');
    const account = ctx.runtime.account(d.account, 'input.volume');
    const volumeId = d.parts[0] ?? '';
    const driver = computeWith(account, d.region, 'createVolumeSnapshot');
    const snapshot = await callAccount(ctx, account, 'createVolumeSnapshot', () => driver.createVolumeSnapshot(volumeId, input.name ?? undefined), {
      region: d.region,
      mutates: true,
    });
    return { snapshot: scope({ ...snapshot, volumeId }, d.account, d.region) };
  },
});

defineMutation('deleteVolumeSnapshot', {
  description: 'Deletes a volume snapshot.',
  input: (t) => ({ id: t.id({ required: true, description: 'The VolumeSnapshot id.' }) }),
  payload: deletedPayload,
  resolve: async (input, ctx) => {
    const d = decodeId(String(input.id), 'VolumeSnapshot', 'input.id');
    const account = ctx.runtime.account(d.account, 'input.id');
    const driver = computeWith(account, d.region, 'destroyVolumeSnapshot');
    await callAccount(ctx, account, 'deleteVolumeSnapshot', () => driver.destroyVolumeSnapshot(d.parts[1] ?? ''), { region: d.region, mutates: true });
    return { deletedId: encodeId('VolumeSnapshot', d.account, d.region, ...d.parts) };
  },
});
