/** Point-in-time snapshots of a volume; a new volume can be created from one. */
import { builder } from '../builder.ts';
import { decodeId, encodeId } from '../ids.ts';
import { NotFoundError } from '../providers/errors.ts';
import type { VolumeSnapshot as SnapshotModel } from '../providers/types.ts';
import { computeWith } from '../resolvers/capability.ts';
import { scope, withDeadline, type InAccount } from '../resolvers/fan-out.ts';
import { Resource, resourceResolvers } from './resource.ts';
import { DateTimeScalar, JSONScalar } from './scalars.ts';

type Snapshot = InAccount<SnapshotModel & { volumeId: string }>;

export const VolumeSnapshot = builder.objectRef<Snapshot>('VolumeSnapshot').implement({
  description: 'A snapshot of a volume.',
  interfaces: [Resource],
  fields: (t) => ({
    id: t.id({ resolve: (s) => encodeId('VolumeSnapshot', s.$account, s.$region, s.volumeId, s.id) }),
    nativeId: t.exposeString('id', { description: "The provider's own id." }),
    name: t.exposeString('name', { nullable: true }),
    size: t.exposeInt('size', { description: 'GB' }),
    state: t.exposeString('state'),
    createdAt: t.field({ type: DateTimeScalar, nullable: true, resolve: (s) => s.createdAt }),
    region: t.string({ nullable: true, resolve: (s) => s.$region }),
    extra: t.field({ type: JSONScalar, resolve: (s) => s.extra }),
  }),
});

// why: a root field, not Volume.snapshots: drivers list snapshots one volume at a time, and a
// field on every listed volume would make one upstream call per volume
builder.queryField('volumeSnapshots', (t) =>
  t.field({
    type: [VolumeSnapshot],
    description: 'Snapshots of one volume.',
    args: { volume: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.volume), 'Volume', 'volume');
      const account = ctx.runtime.account(d.account, 'volume');
      const volumeId = d.parts[0] ?? '';
      const driver = computeWith(account, d.region, 'listVolumeSnapshots');
      const list = await withDeadline(account, 'listVolumeSnapshots', () => driver.listVolumeSnapshots(volumeId));
      return list.map((s) => scope({ ...s, volumeId }, d.account, d.region));
    },
  }),
);

builder.mutationField('createVolumeSnapshot', (t) =>
  t.field({
    type: VolumeSnapshot,
    args: { volume: t.arg.id({ required: true }), name: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.volume), 'Volume', 'volume');
      const account = ctx.runtime.account(d.account, 'volume');
      const volumeId = d.parts[0] ?? '';
      const driver = computeWith(account, d.region, 'createVolumeSnapshot');
      const snapshot = await withDeadline(account, 'createVolumeSnapshot', () => driver.createVolumeSnapshot(volumeId, args.name ?? undefined));
      return scope({ ...snapshot, volumeId }, d.account, d.region);
    },
  }),
);

builder.mutationField('destroyVolumeSnapshot', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const d = decodeId(String(args.id), 'VolumeSnapshot', 'id');
      const account = ctx.runtime.account(d.account, 'id');
      const driver = computeWith(account, d.region, 'destroyVolumeSnapshot');
      await withDeadline(account, 'destroyVolumeSnapshot', () => driver.destroyVolumeSnapshot(d.parts[1] ?? ''));
      return true;
    },
  }),
);

resourceResolvers.set('VolumeSnapshot', async (id, ctx) => {
  const d = decodeId(id, 'VolumeSnapshot', 'id');
  const account = ctx.runtime.account(d.account, 'id');
  const [volumeId = '', snapshotId = ''] = d.parts;
  const driver = computeWith(account, d.region, 'listVolumeSnapshots');
  const found = (await withDeadline(account, 'listVolumeSnapshots', () => driver.listVolumeSnapshots(volumeId))).find((s) => s.id === snapshotId);
  if (!found) throw new NotFoundError(`snapshot ${snapshotId} not found in account "${d.account}"`);
  return scope({ ...found, volumeId }, d.account, d.region);
});
