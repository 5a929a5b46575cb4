/**
 * The DigitalOcean compute driver (API v2): droplets with tags, distribution and private images,
 * sizes with hourly prices, regions as locations. Power changes go through droplet actions and
 * return once the action completed, so the next change is not refused as a pending event.
 */
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError, ProviderError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { obj, str, type Json } from '../rest/json.ts';
import { DIGITALOCEAN_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import { tagsToStrings } from '../rest/tags.ts';
import { waitFor, type WaitOptions } from '../rest/wait.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../types.ts';
import { toImage, toLocation, toNode, toSize } from './mappers.ts';

/** What the compute driver needs from its instance. */
export interface DigitalOceanComputeOptions {
  provider: string;
  conn: () => Connection;
  /** per_page, at most 200 */
  pageSize: number;
  wait: WaitOptions;
}

/** why: DigitalOcean rejects user_data over 64 KiB */
const USER_DATA_MAX = 64 * 1024;
/** https://docs.digitalocean.com/reference/api/digitalocean/#tag/Tags (name) */
const TAG_RULE = { pattern: /^[a-zA-Z0-9_:-]+$/, maxLength: 255, describe: 'letters, digits, colons, dashes and underscores, at most 255' };
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]{0,252}$/;

export function digitalOceanComputeDriver(opts: DigitalOceanComputeOptions): ComputeDriver {
  const { provider, conn } = opts;
  const pages = (path: string, itemsKey: string, query?: Record<string, string>) =>
    listAll(conn(), { provider, path, itemsKey, style: DIGITALOCEAN_PAGES, pageSize: opts.pageSize, query });

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_list
  const listNodes = async (): Promise<Node[]> => (await pages('droplets', 'droplets')).map((d) => toNode(d, provider));

  const listImagesOf = async (which: 'distribution' | 'private'): Promise<Image[]> => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Images/operation/images_list
    const images = await pages('images', 'images', which === 'private' ? { private: 'true' } : { type: 'distribution' });
    return images.map((i) => toImage(i, provider));
  };
  const allImages = async (owner?: string): Promise<Image[]> => {
    const [distribution, own] = await Promise.all([
      owner === undefined || owner === 'digitalocean' ? listImagesOf('distribution') : [],
      owner === undefined || owner === 'self' ? listImagesOf('private') : [],
    ]);
    return [...distribution, ...own];
  };

  const action = async (id: string, type: string): Promise<void> => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplet-Actions/operation/dropletActions_post
    const res = await conn().request<Json>({ operation: `POST /droplets/{id}/actions ${type}`, method: 'POST', path: `droplets/${idPath(id, provider, 'a droplet')}/actions`, json: { type }, expect: [201, 200] });
    const started = obj(obj(res.body)?.action);
    const actionId = str(started?.id);
    if (!actionId) throw new MalformedResponseError(`POST /droplets/{id}/actions ${type} answered without an action`, { provider });
    await waitForAction(actionId, type, started);
  };

  const waitForAction = (actionId: string, type: string, first: Json | undefined) => {
    let current = first;
    return waitFor(
      async () => {
        if (!current) {
          // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Actions/operation/actions_get
          const res = await conn().request<Json>({ operation: 'GET /actions/{id}', path: `actions/${encodeURIComponent(actionId)}` });
          current = obj(obj(res.body)?.action);
        }
        const status = str(current?.status);
        current = undefined;
        if (status === 'completed') return true;
        if (status === 'errored') throw new ProviderError(`droplet action ${type} (${actionId}) errored`, { provider });
        return undefined;
      },
      `droplet action ${type} (${actionId}) to complete`,
      opts.wait,
    );
  };

  return {
    listNodes,

    // why: the API looks droplets up one id at a time; one paged listing serves a whole batch
    getNodes: batchFromListing(listNodes),

    async listImages(filter?: ImageFilter) {
      const images = await allImages(filter?.owner);
      return images.filter((i) => matches(i, filter));
    },

    async getImages(ids) {
      const images = await allImages();
      const byKey = new Map<string, Image>();
      for (const i of images) {
        byKey.set(i.id, i);
        if (typeof i.extra.slug === 'string') byKey.set(i.extra.slug, i);
      }
      return ids.map((id) => byKey.get(id) ?? null);
    },

    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Sizes/operation/sizes_list
    listSizes: async () => (await pages('sizes', 'sizes')).map((s) => toSize(s, provider)),

    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Regions/operation/regions_list
    listLocations: async () => (await pages('regions', 'regions')).map((r) => toLocation(r, provider)),

    async createNode(input: CreateNodeInput) {
      const body = dropletBody(input, provider);
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_create
      const res = await conn().request<Json>({ operation: 'POST /droplets', method: 'POST', path: 'droplets', json: body, expect: [202, 201] });
      const droplet = obj(obj(res.body)?.droplet);
      if (!droplet) throw new MalformedResponseError('POST /droplets answered without a droplet', { provider });
      return toNode(droplet, provider);
    },

    async destroyNode(id) {
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_destroy
      await conn().request({ operation: 'DELETE /droplets/{id}', method: 'DELETE', path: `droplets/${idPath(id, provider, 'a droplet')}`, responseType: 'none' });
    },

    rebootNode: (id, o) => action(id, o?.hard ? 'power_cycle' : 'reboot'),
    startNode: (id) => action(id, 'power_on'),
    stopNode: (id) => action(id, 'power_off'),
  };
}

// --- Internal helpers ---

function matches(image: Image, filter: ImageFilter | undefined): boolean {
  if (filter?.ids !== undefined && !filter.ids.includes(image.id) && !filter.ids.includes(String(image.extra.slug))) return false;
  if (filter?.name !== undefined && image.name !== filter.name && image.extra.slug !== filter.name) return false;
  return true;
}

function dropletBody(input: CreateNodeInput, provider: string): Json {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  if (typeof input.name !== 'string' || !NAME.test(input.name)) throw fail('name', 'name must be a host name: letters, digits, dots and dashes, at most 253');
  if (typeof input.sizeId !== 'string' || input.sizeId === '') throw fail('sizeId', 'sizeId is required (a size slug)');
  if (typeof input.imageId !== 'string' || input.imageId === '') throw fail('imageId', 'imageId is required (an image id or slug)');
  if (typeof input.locationId !== 'string' || input.locationId === '') throw fail('locationId', 'locationId is required (a region slug)');
  if (input.sshKey !== undefined) throw fail('sshKey', 'DigitalOcean installs keys registered in the account: pass keyName (the key id or fingerprint)');
  const ex = input.ex ?? {};
  const body: Json = {
    name: input.name,
    region: input.locationId,
    size: input.sizeId,
    // why: numeric ids are images by id, anything else a slug
    image: /^\d+$/.test(input.imageId) ? Number(input.imageId) : input.imageId,
  };
  if (input.keyName !== undefined) body.ssh_keys = [/^\d+$/.test(input.keyName) ? Number(input.keyName) : input.keyName];
  if (input.userData !== undefined) {
    if (Buffer.byteLength(input.userData, 'utf8') > USER_DATA_MAX) throw fail('userData', `userData must be at most ${USER_DATA_MAX} bytes`);
    body.user_data = input.userData;
  }
  const tags = tagsToStrings(input.tags, { provider, ...TAG_RULE });
  if (tags.length) body.tags = tags;
  for (const [key, field] of [['ipv6', 'ipv6'], ['monitoring', 'monitoring'], ['backups', 'backups']] as const) {
    if (ex[key] === undefined) continue;
    if (typeof ex[key] !== 'boolean') throw fail(`ex.${key}`, `ex.${key} must be true or false`);
    body[field] = ex[key];
  }
  if (ex.vpcUuid !== undefined) {
    if (typeof ex.vpcUuid !== 'string' || ex.vpcUuid === '') throw fail('ex.vpcUuid', 'ex.vpcUuid must be a VPC id');
    body.vpc_uuid = ex.vpcUuid;
  }
  const unknown = Object.keys(ex).filter((k) => !['ipv6', 'monitoring', 'backups', 'vpcUuid'].includes(k));
  if (unknown.length) throw fail(`ex.${unknown[0]}`, `ex.${unknown[0]} is not a DigitalOcean droplet option (known: ipv6, monitoring, backups, vpcUuid)`);
  return body;
}
