/**
 * EBS volumes and snapshots, and AMIs made from instances.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AttachVolume.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshot.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { ComputeDriver, Image, SnapshotState, Volume, VolumeSnapshot, VolumeState } from '../../types.ts';
import { DRIVER_NAME, filterParams, listParams, type Ec2Api, type Ec2Params, type XmlObject } from './api.ts';
import { items, text, toTags } from './mappers.ts';

type VolumeMethods = Required<
  Pick<
    ComputeDriver,
    | 'listVolumes'
    | 'createVolume'
    | 'attachVolume'
    | 'detachVolume'
    | 'destroyVolume'
    | 'listVolumeSnapshots'
    | 'createVolumeSnapshot'
    | 'destroyVolumeSnapshot'
    | 'createImage'
    | 'copyImage'
    | 'deleteImage'
  >
>;

/** EBS volume status -> Libcloud StorageVolumeState */
const VOLUME_STATE: Record<string, VolumeState> = {
  creating: 'creating',
  available: 'available',
  'in-use': 'inuse',
  deleting: 'deleting',
  deleted: 'deleted',
  error: 'error',
};

/** EBS snapshot status -> Libcloud VolumeSnapshotState */
const SNAPSHOT_STATE: Record<string, SnapshotState> = {
  pending: 'creating',
  completed: 'available',
  error: 'error',
  recovering: 'restoring',
  recoverable: 'unknown',
};

/** why: AWS recommends /dev/sd[f-p] for EBS data volumes on Linux */
const DATA_DEVICES = 'fghijklmnop'.split('').map((c) => `/dev/sd${c}`);

export function ec2Volumes(api: Ec2Api): VolumeMethods {
  const nameTags = (resourceType: string, name: string | undefined): Ec2Params =>
    name ? { 'TagSpecification.1.ResourceType': resourceType, 'TagSpecification.1.Tag.1.Key': 'Name', 'TagSpecification.1.Tag.1.Value': name } : {};

  return {
    listVolumes: () => api.paginate('DescribeVolumes', { MaxResults: '500' }, (page) => items(page.volumeSet).map(toVolume)),

    async createVolume(input) {
      if (!input.locationId) throw invalid('locationId', 'an EBS volume lives in one availability zone: give locationId');
      if (!Number.isInteger(input.size) || input.size < 1) throw invalid('size', 'size must be a whole number of GiB, at least 1');
      const params: Ec2Params = {
        AvailabilityZone: input.locationId,
        Size: String(input.size),
        ClientToken: randomUUID(),
        ...(input.snapshotId ? { SnapshotId: input.snapshotId } : {}),
        ...nameTags('volume', input.name),
      };
      // why: CreateVolume with a ClientToken is idempotent, so a retry cannot make two volumes
      return toVolume(await api.call('CreateVolume', params, { idempotent: true }));
    },

    async attachVolume(nodeId, volumeId, device) {
      const chosen = device ?? (await freeDevice(api, nodeId));
      await api.call('AttachVolume', { InstanceId: nodeId, VolumeId: volumeId, Device: chosen });
    },

    detachVolume: async (volumeId) => void (await api.call('DetachVolume', { VolumeId: volumeId }, { idempotent: true })),

    destroyVolume: async (volumeId) => void (await api.call('DeleteVolume', { VolumeId: volumeId }, { idempotent: true })),

    listVolumeSnapshots: (volumeId) =>
      api.paginate('DescribeSnapshots', { MaxResults: '1000', 'Owner.1': 'self', ...filterParams([{ name: 'volume-id', values: [volumeId] }]) }, (page) =>
        items(page.snapshotSet).map(toSnapshot),
      ),

    async createVolumeSnapshot(volumeId, name) {
      const params: Ec2Params = { VolumeId: volumeId, ...nameTags('snapshot', name) };
      if (name) params.Description = name;
      return toSnapshot(await api.call('CreateSnapshot', params));
    },

    destroyVolumeSnapshot: async (snapshotId) => void (await api.call('DeleteSnapshot', { SnapshotId: snapshotId }, { idempotent: true })),

    async createImage(nodeId, name, description): Promise<Image> {
      checkAmiName(name);
      const page = await api.call('CreateImage', { InstanceId: nodeId, Name: name, ...(description ? { Description: description } : {}) });
      const id = text(page.imageId);
      if (!id) throw new MalformedResponseError('CreateImage answered without an imageId', { provider: DRIVER_NAME });
      return { id, name, extra: { state: 'pending', sourceInstanceId: nodeId, ...(description ? { description } : {}) } };
    },

    // why: CopyImage is sent to the destination region, which pulls the image from SourceRegion
    async copyImage(sourceRegion, imageId, name, description): Promise<Image> {
      checkAmiName(name);
      const params: Ec2Params = { SourceRegion: sourceRegion, SourceImageId: imageId, Name: name, ClientToken: randomUUID() };
      if (description) params.Description = description;
      const page = await api.call('CopyImage', params);
      const id = text(page.imageId);
      if (!id) throw new MalformedResponseError('CopyImage answered without an imageId', { provider: DRIVER_NAME });
      return { id, name, extra: { state: 'pending', sourceImageId: imageId, sourceRegion, ...(description ? { description } : {}) } };
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html
    deleteImage: async (id) => void (await api.call('DeregisterImage', { ImageId: id }, { idempotent: true })),
  };
}

function checkAmiName(name: string): void {
  if (!/^[A-Za-z0-9()[\] ./'@_-]{3,128}$/.test(name)) {
    throw invalid('name', "an AMI name is 3 to 128 letters, digits, spaces or ( ) [ ] . / - ' @ _");
  }
}

export function toVolume(v: XmlObject): Volume {
  const id = text(v.volumeId) ?? '';
  const tags = toTags(v.tagSet);
  const attachment = items(v.attachmentSet)[0];
  const status = text(v.status) ?? '';
  return {
    id,
    name: tags['Name'] || id,
    size: Number.parseInt(text(v.size) ?? '0', 10) || 0,
    state: VOLUME_STATE[status] ?? 'unknown',
    extra: {
      locationId: text(v.availabilityZone) ?? null,
      volumeType: text(v.volumeType) ?? null,
      snapshotId: text(v.snapshotId) ?? null,
      encrypted: text(v.encrypted) === 'true',
      createdAt: text(v.createTime) ?? null,
      nodeId: attachment ? (text(attachment.instanceId) ?? null) : null,
      device: attachment ? (text(attachment.device) ?? null) : null,
      attachmentState: attachment ? (text(attachment.status) ?? null) : null,
      tags,
    },
  };
}

export function toSnapshot(s: XmlObject): VolumeSnapshot {
  const tags = toTags(s.tagSet);
  const startTime = text(s.startTime);
  const created = startTime ? new Date(startTime) : null;
  return {
    id: text(s.snapshotId) ?? '',
    name: tags['Name'] || text(s.description) || null,
    size: Number.parseInt(text(s.volumeSize) ?? '0', 10) || 0,
    state: SNAPSHOT_STATE[text(s.status) ?? ''] ?? 'unknown',
    createdAt: created && !Number.isNaN(created.getTime()) ? created : null,
    extra: { volumeId: text(s.volumeId) ?? null, progress: text(s.progress) ?? null, ownerId: text(s.ownerId) ?? null, description: text(s.description) ?? null, tags },
  };
}

// --- Internal helpers ---

/** The first /dev/sd[f-p] the instance does not use yet. */
async function freeDevice(api: Ec2Api, nodeId: string): Promise<string> {
  // why: InstanceId.N (not the filter) so that an unknown instance is InvalidInstanceID.NotFound
  const page = await api.call('DescribeInstances', listParams('InstanceId', [nodeId]));
  const instance = items(page.reservationSet).flatMap((r) => items(r.instancesSet))[0];
  if (!instance) throw new NotFoundError(`instance ${JSON.stringify(nodeId)} does not exist`, { provider: DRIVER_NAME });
  const used = new Set(items(instance.blockDeviceMapping).map((m) => text(m.deviceName)?.replace('/dev/xvd', '/dev/sd')));
  const free = DATA_DEVICES.find((d) => !used.has(d));
  if (!free) throw new ConflictError(`instance ${nodeId} has no free device name in /dev/sdf../dev/sdp; pass one`, { provider: DRIVER_NAME });
  return free;
}

function invalid(field: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}
