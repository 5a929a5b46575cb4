import DataLoader from 'dataloader';
import type { ComputeDriver, Image, ImageFilter, KeyPair, Location, Node, Size, Volume, VolumeSnapshot } from '../providers/types.ts';
import { once, perKey, pick, type Batching, type Cached } from './util.ts';

export interface ComputeLoaders {
  nodes: () => Promise<Node[]>;
  node: DataLoader<string, Node | null>;
  images: (filter: Omit<ImageFilter, 'ids'>) => Promise<Image[]>;
  image: DataLoader<string, Image | null>;
  sizes: () => Promise<Size[]>;
  size: DataLoader<string, Size | null>;
  locations: () => Promise<Location[]>;
  location: DataLoader<string, Location | null>;
  /** only for drivers with listVolumes / listKeyPairs / listVolumeSnapshots */
  volumes: () => Promise<Volume[]>;
  keyPairs: () => Promise<KeyPair[]>;
  snapshots: (volumeId: string) => Promise<VolumeSnapshot[]>;
  /** the same listings made now, for lookups of one resource */
  current: {
    volumes: () => Promise<Volume[]>;
    keyPairs: () => Promise<KeyPair[]>;
    snapshots: (volumeId: string) => Promise<VolumeSnapshot[]>;
  };
}

export function createComputeLoaders(driver: ComputeDriver, cached: Cached, batching: Batching = {}): ComputeLoaders {
  // why: what this request lists upstream is current, so the list fields and the by-id lookups
  // (which must be current) share it; only a listing served from the cache makes a lookup ask again
  let listedNow: Node[] | undefined;
  const listNodes = once(() => driver.listNodes().then((list) => (listedNow = list)));
  let seen: Promise<Node[]> | undefined;
  const nodes = once(() => (seen = cached.get('listNodes', null, listNodes)));
  const currentNodes = once(() => cached.refresh('listNodes', null, listNodes));
  // why: a node of the listing this request read is answered from it, as the list showed it; the
  // others are asked for upstream, unless this request's own (current) listing says they are gone
  const node = new DataLoader<string, Node | null>(
    async (ids) => {
      const listed = seen ? await seen.catch(() => undefined) : undefined;
      const found = listed ? pick(listed, ids) : ids.map(() => null);
      const missing = ids.filter((_, i) => found[i] === null);
      if (missing.length === 0 || listedNow) return found;
      const more = driver.getNodes ? await cached.call('getNodes', () => driver.getNodes!(missing)) : pick(await currentNodes(), missing);
      let next = 0;
      return found.map((n) => n ?? more[next++] ?? null);
    },
    batching,
  );
  const images = perKey((filter: Omit<ImageFilter, 'ids'>) => cached.get('listImages', filter, () => driver.listImages(filter)));
  const image = new DataLoader<string, Image | null>(
    (ids) => cached.call('getImages', async () => (driver.getImages ? driver.getImages(ids) : pick(await driver.listImages({ ids: [...ids] }), ids))),
    batching,
  );
  const sizes = once(() => cached.get('listSizes', null, () => driver.listSizes()));
  const size = new DataLoader<string, Size | null>(async (ids) => pick(await sizes(), ids), batching);
  const locations = once(() => cached.get('listLocations', null, () => driver.listLocations()));
  const location = new DataLoader<string, Location | null>(async (ids) => pick(await locations(), ids), batching);
  const listVolumes = once(() => driver.listVolumes!());
  const listKeyPairs = once(() => driver.listKeyPairs!());
  const listSnapshots = perKey((volumeId: string) => driver.listVolumeSnapshots!(volumeId));
  const volumes = once(() => cached.get('listVolumes', null, listVolumes));
  const keyPairs = once(() => cached.get('listKeyPairs', null, listKeyPairs));
  const snapshots = perKey((volumeId: string) => cached.get('listVolumeSnapshots', volumeId, () => listSnapshots(volumeId)));
  const current = {
    volumes: once(() => cached.refresh('listVolumes', null, listVolumes)),
    keyPairs: once(() => cached.refresh('listKeyPairs', null, listKeyPairs)),
    snapshots: perKey((volumeId: string) => cached.refresh('listVolumeSnapshots', volumeId, () => listSnapshots(volumeId))),
  };
  return { nodes, node, images, image, sizes, size, locations, location, volumes, keyPairs, snapshots, current };
}
