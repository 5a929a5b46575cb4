import DataLoader from 'dataloader';
import type { ComputeDriver, Image, Location, Node, Size } from '../providers/types.ts';
import { once, pick } from './util.ts';

export interface ComputeLoaders {
  nodes: () => Promise<Node[]>;
  node: DataLoader<string, Node | null>;
  image: DataLoader<string, Image | null>;
  sizes: () => Promise<Size[]>;
  size: DataLoader<string, Size | null>;
  locations: () => Promise<Location[]>;
  location: DataLoader<string, Location | null>;
}

export function createComputeLoaders(driver: ComputeDriver): ComputeLoaders {
  const nodes = once(async () => {
    const list = await driver.listNodes();
    // why: a later node(id) in the same request must not call upstream again
    for (const n of list) node.prime(n.id, n);
    return list;
  });
  const node = new DataLoader<string, Node | null>(async (ids) =>
    driver.getNodes ? driver.getNodes(ids) : pick(await nodes(), ids),
  );
  const image = new DataLoader<string, Image | null>(async (ids) =>
    driver.getImages ? driver.getImages(ids) : pick(await driver.listImages({ ids: [...ids] }), ids),
  );
  const sizes = once(() => driver.listSizes());
  const size = new DataLoader<string, Size | null>(async (ids) => pick(await sizes(), ids));
  const locations = once(() => driver.listLocations());
  const location = new DataLoader<string, Location | null>(async (ids) => pick(await locations(), ids));
  return { nodes, node, image, sizes, size, locations, location };
}
