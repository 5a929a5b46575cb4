/**
 * The Vultr compute driver (API v2): instances with tags, operating systems as images, plans
 * with hourly prices (the monthly cost over the 672 billed hours), regions. Vultr answers a
 * create with the instance's default password: it is never returned, stored or logged.
 */
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { obj, type Json } from '../rest/json.ts';
import { VULTR_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import { tagsToStrings } from '../rest/tags.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../types.ts';
import { toImage, toLocation, toNode, toSize } from './mappers.ts';

export interface VultrComputeOptions {
  provider: string;
  conn: () => Connection;
  /** per_page, at most 500 */
  pageSize: number;
}

const TAG_RULE = { pattern: /^\S(.*\S)?$/, maxLength: 255, describe: 'at most 255 characters, no surrounding blanks' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EX_KEYS = ['hostname', 'enableIpv6', 'backups', 'firewallGroupId', 'vpcIds', 'snapshotId'];

export function vultrComputeDriver(opts: VultrComputeOptions): ComputeDriver {
  const { provider, conn } = opts;
  const pages = (path: string, itemsKey: string) => listAll(conn(), { provider, path, itemsKey, style: VULTR_PAGES, pageSize: opts.pageSize });

  // https://www.vultr.com/api/#tag/instances/operation/list-instances
  const listNodes = async (): Promise<Node[]> => (await pages('instances', 'instances')).map((i) => toNode(i, provider));
  // https://www.vultr.com/api/#tag/os/operation/list-os
  const allImages = async (): Promise<Image[]> => (await pages('os', 'os')).map((o) => toImage(o, provider));

  const power = async (id: string, what: 'reboot' | 'start' | 'halt') => {
    // https://www.vultr.com/api/#tag/instances/operation/reboot-instance
    // https://www.vultr.com/api/#tag/instances/operation/start-instance
    // https://www.vultr.com/api/#tag/instances/operation/halt-instance
    await conn().request({ operation: `POST /instances/{id}/${what}`, method: 'POST', path: `instances/${idPath(id, provider, 'an instance')}/${what}`, responseType: 'none', expect: [204, 200] });
  };

  return {
    listNodes,

    // why: one paged listing serves a whole batch (the API has no multi-id lookup)
    getNodes: batchFromListing(listNodes),

    async listImages(filter?: ImageFilter) {
      return (await allImages()).filter(
        (i) =>
          (filter?.ids === undefined || filter.ids.includes(i.id)) &&
          (filter?.owner === undefined || i.extra.owner === filter.owner) &&
          (filter?.name === undefined || i.name === filter.name),
      );
    },

    getImages: batchFromListing(allImages),

    // https://www.vultr.com/api/#tag/plans/operation/list-plans
    listSizes: async () => (await pages('plans', 'plans')).map((p) => toSize(p, provider)),

    // https://www.vultr.com/api/#tag/region/operation/list-regions
    listLocations: async () => (await pages('regions', 'regions')).map((r) => toLocation(r, provider)),

    async createNode(input: CreateNodeInput) {
      const body = instanceBody(input, provider);
      // https://www.vultr.com/api/#tag/instances/operation/create-instance
      const res = await conn().request<Json>({ operation: 'POST /instances', method: 'POST', path: 'instances', json: body, expect: [202, 201, 200] });
      // why: the answer holds default_password; toNode reads only what it maps
      const instance = obj(obj(res.body)?.instance);
      if (!instance) throw new MalformedResponseError('POST /instances answered without an instance', { provider });
      return toNode(instance, provider);
    },

    async destroyNode(id) {
      // https://www.vultr.com/api/#tag/instances/operation/delete-instance
      await conn().request({ operation: 'DELETE /instances/{id}', method: 'DELETE', path: `instances/${idPath(id, provider, 'an instance')}`, responseType: 'none' });
    },

    // why: Vultr has one reboot; `hard` changes nothing
    rebootNode: (id) => power(id, 'reboot'),
    startNode: (id) => power(id, 'start'),
    stopNode: (id) => power(id, 'halt'),
  };
}

// --- Internal helpers ---

function instanceBody(input: CreateNodeInput, provider: string): Json {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 255) throw fail('name', 'name must be 1 to 255 characters');
  if (typeof input.sizeId !== 'string' || input.sizeId === '') throw fail('sizeId', 'sizeId is required (a plan id)');
  if (typeof input.locationId !== 'string' || input.locationId === '') throw fail('locationId', 'locationId is required (a region id)');
  if (input.sshKey !== undefined) throw fail('sshKey', 'Vultr installs keys registered in the account: pass keyName (the SSH key id)');
  const ex = input.ex ?? {};
  const unknown = Object.keys(ex).filter((k) => !EX_KEYS.includes(k));
  if (unknown.length) throw fail(`ex.${unknown[0]}`, `ex.${unknown[0]} is not a Vultr instance option (known: ${EX_KEYS.join(', ')})`);
  const body: Json = { region: input.locationId, plan: input.sizeId, label: input.name };
  if (ex.snapshotId !== undefined) {
    if (typeof ex.snapshotId !== 'string' || !UUID.test(ex.snapshotId)) throw fail('ex.snapshotId', 'ex.snapshotId must be a snapshot id');
    body.snapshot_id = ex.snapshotId;
  } else {
    if (typeof input.imageId !== 'string' || !/^\d{1,9}$/.test(input.imageId)) throw fail('imageId', 'imageId must be an operating system id (listImages)');
    body.os_id = Number(input.imageId);
  }
  if (input.keyName !== undefined) {
    if (typeof input.keyName !== 'string' || !UUID.test(input.keyName)) throw fail('keyName', 'keyName must be a Vultr SSH key id');
    body.sshkey_id = [input.keyName];
  }
  if (input.userData !== undefined) body.user_data = Buffer.from(input.userData, 'utf8').toString('base64');
  const tags = tagsToStrings(input.tags, { provider, ...TAG_RULE });
  if (tags.length) body.tags = tags;
  if (ex.hostname !== undefined) {
    if (typeof ex.hostname !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/.test(ex.hostname)) throw fail('ex.hostname', 'ex.hostname must be a host name');
    body.hostname = ex.hostname;
  }
  if (ex.enableIpv6 !== undefined) {
    if (typeof ex.enableIpv6 !== 'boolean') throw fail('ex.enableIpv6', 'ex.enableIpv6 must be true or false');
    body.enable_ipv6 = ex.enableIpv6;
  }
  if (ex.backups !== undefined) {
    if (typeof ex.backups !== 'boolean') throw fail('ex.backups', 'ex.backups must be true or false');
    body.backups = ex.backups ? 'enabled' : 'disabled';
  }
  if (ex.firewallGroupId !== undefined) {
    if (typeof ex.firewallGroupId !== 'string' || !UUID.test(ex.firewallGroupId)) throw fail('ex.firewallGroupId', 'ex.firewallGroupId must be a firewall group id');
    body.firewall_group_id = ex.firewallGroupId;
  }
  if (ex.vpcIds !== undefined) {
    if (!Array.isArray(ex.vpcIds) || !ex.vpcIds.every((v) => typeof v === 'string' && UUID.test(v))) throw fail('ex.vpcIds', 'ex.vpcIds must be a list of VPC ids');
    Object.assign(body, { enable_vpc: true, attach_vpc: ex.vpcIds });
  }
  return body;
}
