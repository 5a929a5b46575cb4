/**
 * The EC2 compute driver for one (account, region): instances, images, sizes, zones, key pairs
 * (key-pairs.ts), EBS volumes, snapshots and AMIs from instances (volumes.ts), and tags (`ex`).
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError, MalformedResponseError, UnsupportedError } from '../../errors.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../../types.ts';
import { DRIVER_NAME, chunk, filterParams, listParams, type Ec2Api, type Ec2Params } from './api.ts';
import { ec2KeyPairs } from './key-pairs.ts';
import { items, toImage, toLocation, toNode, toNodes, toTags, text } from './mappers.ts';
import { runInstancesParams } from './run-instances.ts';
import { ec2Sizes } from './sizes.ts';
import { ec2Volumes } from './volumes.ts';

/** DescribeInstances page size (the API allows 5 to 1000) */
const PAGE_SIZE = '1000';
/** why: EC2 caps the values of one filter; 200 is within every documented limit */
const FILTER_VALUES_MAX = 200;

export function ec2ComputeDriver(api: Ec2Api): ComputeDriver {
  const power = (action: string, id: string) => api.call(action, listParams('InstanceId', [requireId(id, 'id')]), { idempotent: true });

  return {
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    listNodes: () => api.paginate('DescribeInstances', { MaxResults: PAGE_SIZE }, toNodes),

    // why: the instance-id filter answers unknown ids with nothing, where InstanceId.N fails the whole batch
    async getNodes(ids) {
      const found = new Map<string, Node>();
      const unique = [...new Set(ids)];
      await Promise.all(
        chunk(unique, FILTER_VALUES_MAX).map(async (part) => {
          const params = { MaxResults: PAGE_SIZE, ...filterParams([{ name: 'instance-id', values: part }]) };
          for (const node of await api.paginate('DescribeInstances', params, toNodes)) found.set(node.id, node);
        }),
      );
      return ids.map((id) => found.get(id) ?? null);
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
    async listImages(filter?: ImageFilter) {
      const named = filter?.name ? [{ name: 'name', values: [filter.name] }] : [];
      // why: without an owner DescribeImages returns the whole public catalogue (>100,000 images),
      // so the default is the account's own images; asking by id looks at every owner
      const owners = filter?.owner ? filter.owner.split(',').map((o) => o.trim()).filter(Boolean) : filter?.ids ? [] : ['self'];
      if (filter?.ids !== undefined) {
        const found = await getImagesByFilter(api, [...new Set(filter.ids)], owners, named);
        return found.filter((i): i is Image => i !== null);
      }
      const params = { MaxResults: PAGE_SIZE, ...listParams('Owner', owners), ...filterParams(named) };
      return api.paginate('DescribeImages', params, (page) => items(page.imagesSet).map(toImage));
    },

    getImages: (ids) => getImagesByFilter(api, ids, [], []),

    listSizes: async () => ec2Sizes(api.region),

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
    async listLocations() {
      const page = await api.call('DescribeAvailabilityZones');
      return items(page.availabilityZoneInfo).map(toLocation);
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
    async createNode(input: CreateNodeInput) {
      const clientToken = input.clientToken ?? randomUUID();
      // why: with a ClientToken, RunInstances is idempotent, so a retry cannot launch twice
      const page = await api.call('RunInstances', runInstancesParams(input, clientToken), { idempotent: true });
      const node = items(page.instancesSet).map((i) => toNode(i, { reservationId: text(page.reservationId), ownerId: text(page.ownerId) }))[0];
      if (!node) throw new MalformedResponseError('RunInstances answered without an instance', { provider: DRIVER_NAME });
      // why: RunInstances may answer before the tags are applied; the Name tag was sent, so it is the name
      if (node.name === node.id) node.name = input.name;
      return node;
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
    destroyNode: async (id) => void (await power('TerminateInstances', id)),

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RebootInstances.html
    async rebootNode(id, opts) {
      if (opts?.hard) {
        throw new UnsupportedError('EC2 has no hard reboot: RebootInstances asks the OS to reboot (EC2 forces it after four minutes); use stopNode and startNode', {
          provider: DRIVER_NAME,
        });
      }
      await power('RebootInstances', id);
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html
    startNode: async (id) => void (await power('StartInstances', id)),

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html
    stopNode: async (id) => void (await power('StopInstances', id)),

    ...ec2KeyPairs(api),

    ...ec2Volumes(api),

    ex: {
      /** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html */
      async createTags(resourceId: string, tags: Record<string, string>) {
        const entries = Object.entries(tags);
        if (entries.length === 0) throw new InvalidInputError('createTags needs at least one tag', { provider: DRIVER_NAME, field: 'tags' });
        const params: Ec2Params = { 'ResourceId.1': requireId(resourceId, 'resourceId') };
        entries.forEach(([key, value], i) => {
          params[`Tag.${i + 1}.Key`] = key;
          params[`Tag.${i + 1}.Value`] = value;
        });
        await api.call('CreateTags', params, { idempotent: true });
      },
      /** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html */
      async deleteTags(resourceId: string, keys: string[]) {
        const params: Ec2Params = { 'ResourceId.1': requireId(resourceId, 'resourceId') };
        keys.forEach((key, i) => (params[`Tag.${i + 1}.Key`] = key));
        await api.call('DeleteTags', params, { idempotent: true });
      },
      /** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeTags.html */
      async describeTags(resourceId?: string) {
        const params: Ec2Params = { MaxResults: PAGE_SIZE };
        if (resourceId !== undefined) Object.assign(params, filterParams([{ name: 'resource-id', values: [requireId(resourceId, 'resourceId')] }]));
        return api.paginate('DescribeTags', params, (page) =>
          items(page.tagSet).map((t) => ({
            resourceId: text(t.resourceId) ?? '',
            resourceType: text(t.resourceType) ?? '',
            key: text(t.key) ?? '',
            value: text(t.value) ?? '',
          })),
        );
      },
      /** tags of one resource as a map */
      async getTags(resourceId: string) {
        const page = await api.call('DescribeTags', filterParams([{ name: 'resource-id', values: [requireId(resourceId, 'resourceId')] }]));
        return toTags(page.tagSet);
      },
    },
  };
}

// --- Internal helpers ---

/** Images by id in key order, null where absent: one DescribeImages per 200 ids. */
async function getImagesByFilter(
  api: Ec2Api,
  ids: readonly string[],
  owners: readonly string[],
  filters: readonly { name: string; values: string[] }[],
): Promise<(Image | null)[]> {
  const found = new Map<string, Image>();
  await Promise.all(
    chunk([...new Set(ids)], FILTER_VALUES_MAX).map(async (part) => {
      // why: ImageId.N fails the whole batch with InvalidAMIID.NotFound for one unknown id; the filter does not
      const params = { ...listParams('Owner', owners), ...filterParams([{ name: 'image-id', values: part }, ...filters]) };
      const images = await api.paginate('DescribeImages', params, (page) => items(page.imagesSet).map(toImage));
      for (const image of images) found.set(image.id, image);
    }),
  );
  return ids.map((id) => found.get(id) ?? null);
}

function requireId(id: string, field: string): string {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new InvalidInputError(`${field} must be a non-empty EC2 id`, { provider: DRIVER_NAME, field });
  }
  return id;
}
