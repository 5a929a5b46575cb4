import DataLoader from 'dataloader';
import type { ComputeDriver, Image, ImageFilter, KeyPair, Location, Node, Size, Volume, VolumeSnapshot } from '../providers/types.ts';
import { once, perKey, pick, type Cached } from './util.ts';

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

export function createComputeLoaders(driver: ComputeDriver, cached: Cached): ComputeLoaders {
  const nodes = once(async () => {
    const list = await cached.get('listNodes', null, () => driver.listNodes());
    // why: a later node(id) in the same request must not call upstream again
    for (const n of list) node.prime(n.id, n);
    return list;
  });
  const currentNodes = once(async () => cached.refresh('listNodes', null, () => driver.listNodes()));
  const node = new DataLoader<string, Node | null>(async (ids) => (driver.getNodes ? driver.getNodes(ids) : pick(await currentNodes(), ids)));
  const images = perKey((filter: Omit<ImageFilter, 'ids'>) => cached.get('listImages', filter, () => driver.listImages(filter)));
  const image = new DataLoader<string, Image | null>(async (ids) =>
    driver.getImages ? driver.getImages(ids) : pick(await driver.listImages({ ids: [...ids] }), ids),
  );
  const sizes = once(() => cached.get('listSizes', null, () => driver.listSizes()));
  const size = new DataLoader<string, Size | null>(async (ids) => pick(await sizes(), ids));
  const locations = once(() => cached.get('listLocations', null, () => driver.listLocations()));
  const location = new DataLoader<string, Location | null>(async (ids) => pick(await locations(), ids));
  const volumes = once(() => cached.get('listVolumes', null, () => driver.listVolumes!()));
  const keyPairs = once(() => cached.get('listKeyPairs', null, () => driver.listKeyPairs!()));
  const snapshots = perKey((volumeId: string) => cached.get('listVolumeSnapshots', volumeId, () => driver.listVolumeSnapshots!(volumeId)));
  const current = {
    volumes: once(() => cached.refresh('listVolumes', null, () => driver.listVolumes!())),
    keyPairs: once(() => cached.refresh('listKeyPairs', null, () => driver.listKeyPairs!())),
    snapshots: perKey((volumeId: string) => cached.refresh('listVolumeSnapshots', volumeId, () => driver.listVolumeSnapshots!(volumeId))),
  };
  return { nodes, node, images, image, sizes, size, locations, location, volumes, keyPairs, snapshots, current };
}
