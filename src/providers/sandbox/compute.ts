/**
 * Sandbox compute driver: nodes, images, sizes and locations over the in-memory state, plus
 * the volume and key-pair methods from their own files.
 *
 * destroyNode leaves the node `terminated` for transitionMs (as EC2 does), then it disappears
 * from listings and every later call on it is NotFound.
 */
import { ConflictError } from '../errors.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node, NodeState } from '../types.ts';
import { sandboxKeyPairs } from './key-pairs.ts';
import { DRIVER_NAME } from './options.ts';
import { parsePublicKey } from './ssh-keys.ts';
import {
  allocateAddress,
  currentState,
  findNode,
  invalid,
  isVisible,
  nextId,
  notFound,
  privateAddress,
  requireName,
  settle,
  transition,
  type NodeRecord,
  type SandboxRuntime,
} from './state.ts';
import { sandboxVolumes } from './volumes.ts';

const MAX_USER_DATA = 16 * 1024;

/** What each power operation accepts: from which states it acts, and which make it a no-op. */
const POWER = {
  rebootNode: { from: ['running'], noop: ['rebooting'], via: 'rebooting', to: 'running' },
  stopNode: { from: ['running'], noop: ['stopping', 'stopped'], via: 'stopping', to: 'stopped' },
  startNode: { from: ['stopped'], noop: ['starting', 'running'], via: 'starting', to: 'running' },
} as const satisfies Record<string, { from: NodeState[]; noop: NodeState[]; via: NodeState; to: NodeState }>;

export function sandboxCompute(rt: SandboxRuntime): ComputeDriver {
  const { state } = rt;

  const power = (operation: keyof typeof POWER, id: string) =>
    rt.call(operation, () => {
      const node = findNode(rt, id);
      const now = rt.now();
      const current = currentState(node.life, now);
      const rule = POWER[operation];
      if ((rule.noop as readonly NodeState[]).includes(current)) return;
      if (!(rule.from as readonly NodeState[]).includes(current)) {
        throw new ConflictError(`node ${JSON.stringify(id)} is ${current}; ${operation} needs ${rule.from.join(' or ')}`, {
          provider: DRIVER_NAME,
          status: 409,
        });
      }
      transition(node.life, now, rule.via, rule.to, state.options.transitionMs);
    });

  return {
    listNodes: () =>
      rt.call('listNodes', () => {
        const now = rt.now();
        return [...state.nodes.values()].filter((n) => isVisible(n, now)).map((n) => toNode(rt, n));
      }),

    getNodes: (ids) =>
      rt.call('getNodes', () => {
        const now = rt.now();
        return ids.map((id) => {
          const node = state.nodes.get(id);
          return node && isVisible(node, now) ? toNode(rt, node) : null;
        });
      }),

    listImages: (filter?: ImageFilter) =>
      rt.call('listImages', () => [...state.images.values()].filter((image) => matches(image, filter)).map(copy)),

    getImages: (ids) => rt.call('getImages', () => ids.map((id) => copyOrNull(state.images.get(id)))),

    listSizes: () => rt.call('listSizes', () => [...state.sizes.values()].map(copy)),

    listLocations: () => rt.call('listLocations', () => [...state.locations.values()].map(copy)),

    createNode: (input: CreateNodeInput) =>
      rt.call('createNode', () => {
        if (input.clientToken !== undefined) {
          const existing = state.nodes.get(state.clientTokens.get(input.clientToken) ?? '');
          if (existing && isVisible(existing, rt.now())) return toNode(rt, existing);
        }
        const record = newNodeRecord(rt, input);
        state.nodes.set(record.id, record);
        if (input.clientToken !== undefined) state.clientTokens.set(input.clientToken, record.id);
        return toNode(rt, record);
      }),

    destroyNode: (id) =>
      rt.call('destroyNode', () => {
        const node = findNode(rt, id);
        const now = rt.now();
        if (currentState(node.life, now) === 'terminated') return;
        settle(node.life, 'terminated');
        node.removeAt = now + state.options.transitionMs;
        for (const volume of state.volumes.values()) {
          if (volume.nodeId === id) {
            volume.nodeId = null;
            volume.device = null;
            settle(volume.life, 'available');
          }
        }
      }),

    rebootNode: (id) => power('rebootNode', id),
    startNode: (id) => power('startNode', id),
    stopNode: (id) => power('stopNode', id),

    createImage: (nodeId, name, description) =>
      rt.call('createImage', () => {
        const node = findNode(rt, nodeId);
        if (currentState(node.life, rt.now()) === 'terminated') {
          throw new ConflictError(`node ${JSON.stringify(nodeId)} is terminated`, { provider: DRIVER_NAME, status: 409 });
        }
        requireName(name, 'name');
        const source = state.images.get(node.imageId);
        const image: Image = {
          id: nextId(state, 'image', 'img-custom'),
          name,
          extra: {
            ...source?.extra,
            owner: 'self',
            public: false,
            sourceNodeId: nodeId,
            description: description ?? null,
            createdAt: new Date(rt.now()).toISOString(),
          },
        };
        state.images.set(image.id, image);
        return copy(image);
      }),

    deleteImage: (id) =>
      rt.call('deleteImage', () => {
        const image = state.images.get(id);
        if (!image) throw notFound('image', id);
        if (image.extra['owner'] !== 'self') {
          throw invalid(`image ${JSON.stringify(id)} is a public image and cannot be deleted`, 'id');
        }
        state.images.delete(id);
      }),

    ...sandboxVolumes(rt),
    ...sandboxKeyPairs(rt),
  };
}

/** The model of a node record at the current instant. */
export function toNode(rt: SandboxRuntime, node: NodeRecord): Node {
  const volumeIds = [...rt.state.volumes.values()].filter((v) => v.nodeId === node.id).map((v) => v.id);
  return {
    id: node.id,
    name: node.name,
    state: currentState(node.life, rt.now()),
    publicIps: [...node.publicIps],
    privateIps: [...node.privateIps],
    sizeId: node.sizeId,
    imageId: node.imageId,
    locationId: node.locationId,
    createdAt: new Date(node.createdAt),
    tags: { ...node.tags },
    extra: { keyName: node.keyName, volumeIds },
  };
}

/** Validates the input and builds the record of a new, pending node. */
function newNodeRecord(rt: SandboxRuntime, input: CreateNodeInput): NodeRecord {
  const { state } = rt;
  requireName(input.name, 'name');
  const size = state.sizes.get(input.sizeId);
  if (!size) throw invalid(`unknown size ${JSON.stringify(input.sizeId)}`, 'sizeId');
  const image = state.images.get(input.imageId);
  if (!image) throw invalid(`unknown image ${JSON.stringify(input.imageId)}`, 'imageId');
  const minDisk = image.extra['minDiskGb'];
  if (typeof minDisk === 'number' && size.disk < minDisk) {
    throw invalid(`size ${size.id} has a ${size.disk} GB disk; image ${image.id} needs ${minDisk} GB`, 'sizeId');
  }
  const locationId = input.locationId ?? state.locations.keys().next().value ?? '';
  if (!state.locations.has(locationId)) throw invalid(`unknown location ${JSON.stringify(input.locationId)}`, 'locationId');
  if (input.keyName !== undefined && !state.keyPairs.has(input.keyName)) {
    throw invalid(`unknown key pair ${JSON.stringify(input.keyName)}`, 'keyName');
  }
  if (input.sshKey !== undefined && !parsePublicKey(input.sshKey)) {
    throw invalid('sshKey is not an OpenSSH public key line', 'sshKey');
  }
  if (input.userData !== undefined && Buffer.byteLength(input.userData) > MAX_USER_DATA) {
    throw invalid(`userData exceeds ${MAX_USER_DATA} bytes`, 'userData');
  }
  const tags = { ...parseTags(input.ex), ...input.tags };

  const now = rt.now();
  const id = nextId(state, 'node', 'node');
  const record: NodeRecord = {
    id,
    name: input.name,
    sizeId: size.id,
    imageId: image.id,
    locationId,
    publicIps: [state.options.nodeAddress ?? allocateAddress(state)],
    privateIps: [privateAddress(state.counters.node)],
    createdAt: new Date(now),
    keyName: input.keyName ?? null,
    tags,
    life: { state: 'pending' },
  };
  transition(record.life, now, 'pending', 'running', state.options.transitionMs);
  return record;
}

/** `ex` on createNode takes `tags` (string -> string) and nothing else. */
function parseTags(ex: Record<string, unknown> | undefined): Record<string, string> {
  if (ex === undefined) return {};
  for (const key of Object.keys(ex)) {
    if (key !== 'tags') throw invalid(`ex.${key} is not a sandbox createNode parameter (known: tags)`, `ex.${key}`);
  }
  const tags = ex['tags'];
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw invalid('ex.tags must be an object', 'ex.tags');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw invalid(`ex.tags.${k} must be a string`, `ex.tags.${k}`);
    out[k] = v;
  }
  return out;
}

function matches(image: Image, filter: ImageFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.ids && !filter.ids.includes(image.id)) return false;
  if (filter.owner !== undefined && image.extra['owner'] !== filter.owner) return false;
  if (filter.name !== undefined && !image.name.toLowerCase().includes(filter.name.toLowerCase())) return false;
  return true;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function copyOrNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : structuredClone(value);
}
