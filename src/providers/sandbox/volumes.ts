/**
 * Sandbox block volumes and their snapshots. New volumes and snapshots are `creating` for
 * transitionMs, then `available`; attach and detach take effect at once.
 */
import { ConflictError } from '../errors.ts';
import type { ComputeDriver, Volume, VolumeSnapshot } from '../types.ts';
import { DRIVER_NAME } from './options.ts';
import {
  currentState,
  findNode,
  invalid,
  nextId,
  notFound,
  requireName,
  settle,
  transition,
  type SandboxRuntime,
  type SnapshotRecord,
  type VolumeRecord,
} from './state.ts';

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
  >
>;

const MAX_VOLUME_GB = 16_384;
const DEVICE = /^\/dev\/(?:sd|vd|xvd)[b-z]$/;

export function sandboxVolumes(rt: SandboxRuntime): VolumeMethods {
  const { state } = rt;
  const findVolume = (id: string): VolumeRecord => {
    const volume = state.volumes.get(id);
    if (!volume) throw notFound('volume', id);
    return volume;
  };
  const conflict = (message: string) => new ConflictError(message, { provider: DRIVER_NAME, status: 409 });

  return {
    listVolumes: () => rt.call('listVolumes', () => [...state.volumes.values()].map((v) => toVolume(rt, v))),

    createVolume: (input) =>
      rt.call('createVolume', () => {
        const { size } = input;
        if (!Number.isInteger(size) || size < 1 || size > MAX_VOLUME_GB) {
          throw invalid(`size must be an integer from 1 to ${MAX_VOLUME_GB} (GB)`, 'size');
        }
        requireName(input.name, 'name');
        const locationId = input.locationId ?? state.locations.keys().next().value ?? '';
        if (!state.locations.has(locationId)) throw invalid(`unknown location ${JSON.stringify(locationId)}`, 'locationId');
        if (input.snapshotId !== undefined) {
          const snapshot = state.snapshots.get(input.snapshotId);
          if (!snapshot) throw invalid(`unknown snapshot ${JSON.stringify(input.snapshotId)}`, 'snapshotId');
          if (size < snapshot.size) throw invalid(`size must be at least the snapshot's ${snapshot.size} GB`, 'size');
        }
        const now = rt.now();
        const volume: VolumeRecord = {
          id: nextId(state, 'volume', 'vol'),
          name: input.name,
          size,
          locationId,
          createdAt: new Date(now),
          snapshotId: input.snapshotId ?? null,
          life: { state: 'creating' },
          nodeId: null,
          device: null,
        };
        transition(volume.life, now, 'creating', 'available', state.options.transitionMs);
        state.volumes.set(volume.id, volume);
        return toVolume(rt, volume);
      }),

    attachVolume: (nodeId, volumeId, device) =>
      rt.call('attachVolume', () => {
        const node = findNode(rt, nodeId);
        const volume = findVolume(volumeId);
        const now = rt.now();
        if (currentState(node.life, now) === 'terminated') throw conflict(`node ${JSON.stringify(nodeId)} is terminated`);
        const volumeState = currentState(volume.life, now);
        if (volumeState !== 'available') throw conflict(`volume ${JSON.stringify(volumeId)} is ${volumeState}, not available`);
        if (volume.locationId !== node.locationId) {
          throw invalid(`volume ${volumeId} is in ${volume.locationId}, node ${nodeId} in ${node.locationId}`, 'volumeId');
        }
        const used = new Set([...state.volumes.values()].filter((v) => v.nodeId === nodeId).map((v) => v.device));
        if (device !== undefined) {
          if (!DEVICE.test(device)) throw invalid('device must look like /dev/vdb (sd, vd or xvd, b-z)', 'device');
          if (used.has(device)) throw conflict(`device ${device} is in use on node ${JSON.stringify(nodeId)}`);
        }
        const chosen = device ?? freeDevice(used);
        if (!chosen) throw conflict(`node ${JSON.stringify(nodeId)} has no free device name`);
        volume.nodeId = nodeId;
        volume.device = chosen;
        settle(volume.life, 'inuse');
      }),

    detachVolume: (volumeId) =>
      rt.call('detachVolume', () => {
        const volume = findVolume(volumeId);
        if (volume.nodeId === null) throw conflict(`volume ${JSON.stringify(volumeId)} is not attached`);
        volume.nodeId = null;
        volume.device = null;
        settle(volume.life, 'available');
      }),

    destroyVolume: (volumeId) =>
      rt.call('destroyVolume', () => {
        const volume = findVolume(volumeId);
        if (volume.nodeId !== null) throw conflict(`volume ${JSON.stringify(volumeId)} is attached to ${volume.nodeId}`);
        state.volumes.delete(volumeId);
      }),

    listVolumeSnapshots: (volumeId) =>
      rt.call('listVolumeSnapshots', () => {
        findVolume(volumeId);
        return [...state.snapshots.values()].filter((s) => s.volumeId === volumeId).map((s) => toSnapshot(rt, s));
      }),

    createVolumeSnapshot: (volumeId, name) =>
      rt.call('createVolumeSnapshot', () => {
        const volume = findVolume(volumeId);
        if (name !== undefined) requireName(name, 'name');
        const now = rt.now();
        const snapshot: SnapshotRecord = {
          id: nextId(state, 'snapshot', 'snap'),
          volumeId,
          name: name ?? null,
          size: volume.size,
          createdAt: new Date(now),
          life: { state: 'creating' },
        };
        transition(snapshot.life, now, 'creating', 'available', state.options.transitionMs);
        state.snapshots.set(snapshot.id, snapshot);
        return toSnapshot(rt, snapshot);
      }),

    destroyVolumeSnapshot: (snapshotId) =>
      rt.call('destroyVolumeSnapshot', () => {
        if (!state.snapshots.delete(snapshotId)) throw notFound('snapshot', snapshotId);
      }),
  };
}

// --- Internal helpers ---

function toVolume(rt: SandboxRuntime, v: VolumeRecord): Volume {
  return {
    id: v.id,
    name: v.name,
    size: v.size,
    state: currentState(v.life, rt.now()),
    extra: {
      locationId: v.locationId,
      nodeId: v.nodeId,
      device: v.device,
      snapshotId: v.snapshotId,
      createdAt: v.createdAt.toISOString(),
    },
  };
}

function toSnapshot(rt: SandboxRuntime, s: SnapshotRecord): VolumeSnapshot {
  return {
    id: s.id,
    name: s.name,
    size: s.size,
    state: currentState(s.life, rt.now()),
    createdAt: new Date(s.createdAt),
    extra: { volumeId: s.volumeId },
  };
}

function freeDevice(used: Set<string | null>): string | undefined {
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const name = `/dev/vd${String.fromCharCode(c)}`;
    if (!used.has(name)) return name;
  }
  return undefined;
}
