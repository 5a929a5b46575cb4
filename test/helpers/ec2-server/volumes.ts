/** EBS volumes (create, attach, detach, delete) and snapshots, with EC2's state transitions. */
import type { InstanceApi } from './instances.ts';
import { filters, numbered, specTags } from './params.ts';
import { Fault, type Handler } from './routing.ts';
import { EC2_OWNER_ID } from './constants.ts';
import type { Ec2Sim, RegionState, SnapshotRecord, VolumeRecord } from './state.ts';
import { field, hex, tagsXml, template, unwrap } from './xml.ts';

export function createVolumeApi(sim: Ec2Sim, instances: InstanceApi): Record<string, Handler> {
  const { region, failures, later, current, paginate, unsupported } = sim;
  const { findInstances, codeOf } = instances;
  const volumeTpl = template('templates/volume.xml');
  const attachmentTpl = template('templates/volume-attachment.xml');
  const snapshotTpl = template('templates/snapshot.xml');
  const volumeTokens = new Map<string, string>();

  const handlers: Record<string, Handler> = {
    DescribeVolumes(q, name) {
      const state = region(name);
      const ids = numbered(q, 'VolumeId');
      for (const id of ids) findVolume(state, id);
      const all = [...state.volumes.values()].filter((v) => volumeStatus(state, v) !== undefined && (!ids.length || ids.includes(v.id)));
      const { slice, nextToken } = paginate(q, all);
      return `<volumeSet>${slice.map((v) => renderVolume(state, v)).join('')}</volumeSet>${nextToken}`;
    },
    CreateVolume(q, name) {
      const state = region(name);
      const token = q.get('ClientToken')!;
      const earlier = volumeTokens.get(token);
      if (earlier && state.volumes.has(earlier)) return unwrap(renderVolume(state, state.volumes.get(earlier)!));
      const zone = q.get('AvailabilityZone')!;
      if (!new RegExp(`^${name}[abc]$`).test(zone)) throw new Fault(400, 'InvalidParameterValue', `Invalid availability zone: [${zone}]`);
      const snapshotId = q.get('SnapshotId') ?? '';
      const snapshot = snapshotId ? state.snapshots.get(snapshotId) : undefined;
      if (snapshotId && !snapshot) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
      const size = Number(q.get('Size') ?? snapshot?.size ?? NaN);
      if (!Number.isInteger(size) || size < 1 || size > 16384) throw new Fault(400, 'InvalidParameterValue', 'The parameter Size must be between 1 and 16384');
      const id = `vol-0a${hex(sim.nextSerial(), 15)}`;
      const rec: VolumeRecord = { id, zone, size, snapshotId, createTime: new Date().toISOString(), volumeType: q.get('VolumeType') ?? 'gp2', iops: String(Math.max(100, size * 3)), encrypted: 'false', tags: specTags(q, 'volume'), status: later('creating', 'available') };
      state.volumes.set(id, rec);
      volumeTokens.set(token, id);
      return unwrap(renderVolume(state, rec));
    },
    AttachVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const [instance] = findInstances(state, new URLSearchParams({ 'InstanceId.1': q.get('InstanceId')! }));
      const device = q.get('Device')!;
      if (volumeStatus(state, volume) !== 'available') throw new Fault(400, 'IncorrectState', `${volume.id} is not 'available'.`);
      if (![16, 80].includes(codeOf(instance!))) throw new Fault(400, 'IncorrectInstanceState', `Instance '${instance!.id}' is not 'running' or 'stopped'.`);
      if (volume.zone !== field(instance!.parts[1], 'availabilityZone')) throw new Fault(400, 'InvalidVolume.ZoneMismatch', 'The volume is not in the same availability zone as the instance');
      const used = [...`${instance!.parts[1]}`.matchAll(/<deviceName>([^<]*)<\/deviceName>/g)].map((m) => m[1]!.replace('/dev/xvd', '/dev/sd'));
      if (used.includes(device.replace('/dev/xvd', '/dev/sd')) || instance!.devices.has(device)) throw new Fault(400, 'InvalidParameterValue', `Attachment point ${device} is already in use`);
      volume.status = { now: 'in-use' };
      volume.attachment = { instanceId: instance!.id, device, attachTime: new Date().toISOString(), status: later('attaching', 'attached') };
      instance!.devices.set(device, volume.id);
      return unwrap(attachmentTpl({ volumeId: volume.id, instanceId: instance!.id, device, status: 'attaching', attachTime: volume.attachment.attachTime }));
    },
    DetachVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const att = volume.attachment;
      if (!att || current(att.status) === 'detaching') throw new Fault(400, 'IncorrectState', `Volume '${volume.id}' is in the '${volumeStatus(state, volume)}' state.`);
      att.status = later('detaching', 'detached');
      return unwrap(attachmentTpl({ volumeId: volume.id, instanceId: att.instanceId, device: att.device, status: 'detaching', attachTime: att.attachTime }));
    },
    DeleteVolume(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const status = volumeStatus(state, volume);
      if (status === 'in-use') throw new Fault(400, 'VolumeInUse', `Volume ${volume.id} is currently attached to ${volume.attachment?.instanceId}`);
      if (status !== 'deleting') volume.status = later('deleting', 'deleted');
      return '<return>true</return>';
    },
    DescribeSnapshots(q, name) {
      const state = region(name);
      const ids = numbered(q, 'SnapshotId');
      for (const id of ids) if (!state.snapshots.has(id)) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      if (!ids.length && !numbered(q, 'Owner').includes('self')) failures.push('DescribeSnapshots without Owner self or SnapshotId lists every public snapshot');
      let all = [...state.snapshots.values()].filter((s) => !ids.length || ids.includes(s.id));
      for (const f of filters(q)) {
        if (f.name !== 'volume-id') throw unsupported(`DescribeSnapshots filter ${f.name}`);
        all = all.filter((snap) => f.values.includes(snap.volumeId));
      }
      const { slice, nextToken } = paginate(q, all);
      return `<snapshotSet>${slice.map(renderSnapshot).join('')}</snapshotSet>${nextToken}`;
    },
    CreateSnapshot(q, name) {
      const state = region(name);
      const volume = findVolume(state, q.get('VolumeId')!);
      const id = `snap-0a${hex(sim.nextSerial(), 15)}`;
      const rec: SnapshotRecord = { id, volumeId: volume.id, size: volume.size, description: q.get('Description') ?? '', startTime: new Date().toISOString(), tags: specTags(q, 'snapshot'), status: later('pending', 'completed') };
      state.snapshots.set(id, rec);
      return unwrap(renderSnapshot(rec));
    },
    DeleteSnapshot(q, name) {
      const state = region(name);
      const id = q.get('SnapshotId')!;
      if (!state.snapshots.delete(id)) throw new Fault(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      return '<return>true</return>';
    },
  };

  function findVolume(state: RegionState, id: string): VolumeRecord {
    if (!/^vol-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new Fault(400, 'InvalidVolumeID.Malformed', `Invalid id: "${id}" (expecting "vol-...")`);
    const volume = state.volumes.get(id);
    if (!volume || volumeStatus(state, volume) === undefined) throw new Fault(400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    return volume;
  }

  /** the volume's status after due transitions; undefined once it is gone */
  function volumeStatus(state: RegionState, volume: VolumeRecord): string | undefined {
    if (volume.attachment && current(volume.attachment.status) === 'detached') {
      state.instances.get(volume.attachment.instanceId)?.devices.delete(volume.attachment.device);
      volume.attachment = undefined;
      volume.status = { now: 'available' };
    }
    const status = current(volume.status);
    if (status !== 'deleted') return status;
    state.volumes.delete(volume.id);
    return undefined;
  }

  function renderVolume(state: RegionState, v: VolumeRecord): string {
    const status = volumeStatus(state, v) ?? 'deleted';
    const att = v.attachment;
    const attachmentsXml = att ? attachmentTpl({ volumeId: v.id, instanceId: att.instanceId, device: att.device, status: current(att.status), attachTime: att.attachTime }) : '';
    return volumeTpl({ volumeId: v.id, size: String(v.size), snapshotId: v.snapshotId, zone: v.zone, status, createTime: v.createTime, volumeType: v.volumeType, iops: v.iops, encrypted: v.encrypted, attachmentsXml, tagsXml: tagsXml(v.tags) });
  }

  function renderSnapshot(s: SnapshotRecord): string {
    const status = current(s.status);
    return snapshotTpl({ snapshotId: s.id, volumeId: s.volumeId, status, startTime: s.startTime, progress: status === 'completed' ? '100%' : '0%', ownerId: EC2_OWNER_ID, size: String(s.size), description: s.description, tagsXml: tagsXml(s.tags) });
  }

  return handlers;
}
