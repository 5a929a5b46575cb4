/**
 * The Hetzner Cloud compute driver (API v1): servers with labels, images, server types with
 * per-location prices, locations with their datacenters. Create, destroy and power changes wait
 * for their action. A create without SSH keys makes Hetzner answer a root password: it is never
 * returned, stored or logged.
 */
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { obj, type Json } from '../rest/json.ts';
import { HETZNER_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../types.ts';
import type { HetznerActions } from './actions.ts';
import { toImage, toLocation, toNode, toSize } from './mappers.ts';

export interface HetznerComputeOptions {
  provider: string;
  conn: () => Connection;
  /** per_page, at most 50 */
  pageSize: number;
  actions: HetznerActions;
}

/** why: Hetzner rejects user_data over 32 KiB */
const USER_DATA_MAX = 32 * 1024;
/** RFC 1123 host names, as Hetzner requires for server names */
const NAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** https://docs.hetzner.cloud/reference/cloud#labels */
const LABEL_KEY = /^([a-z0-9A-Z]([a-z0-9A-Z.-]{0,251}[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([a-z0-9A-Z._-]{0,61}[a-z0-9A-Z])?$/;
const LABEL_VALUE = /^([a-z0-9A-Z]([a-z0-9A-Z._-]{0,61}[a-z0-9A-Z])?)?$/;
const EX_KEYS = ['datacenter', 'startAfterCreate', 'enableIpv4', 'enableIpv6', 'networks', 'firewalls', 'placementGroup'];

export function hetznerComputeDriver(opts: HetznerComputeOptions): ComputeDriver {
  const { provider, conn, actions } = opts;
  const pages = (path: string, itemsKey: string) => listAll(conn(), { provider, path, itemsKey, style: HETZNER_PAGES, pageSize: opts.pageSize });

  // https://docs.hetzner.cloud/reference/cloud#servers-list-servers
  const listNodes = async (): Promise<Node[]> => (await pages('servers', 'servers')).map((s) => toNode(s, provider));

  const getNode = async (id: string): Promise<Node> => {
    // https://docs.hetzner.cloud/reference/cloud#servers-get-a-server
    const res = await conn().request<Json>({ operation: 'GET /servers/{id}', path: `servers/${idPath(id, provider, 'a server')}` });
    const server = obj(obj(res.body)?.server);
    if (!server) throw new MalformedResponseError('GET /servers/{id} answered without a server', { provider });
    return toNode(server, provider);
  };

  // https://docs.hetzner.cloud/reference/cloud#images-list-images
  const listImages = async (): Promise<Image[]> => (await pages('images', 'images')).map((i) => toImage(i, provider));

  // https://docs.hetzner.cloud/reference/cloud#server-actions
  const action = async (id: string, name: string) => actions.run(`POST /servers/{id}/actions/${name}`, `servers/${idPath(id, provider, 'a server')}/actions/${name}`);

  return {
    listNodes,

    // why: one paged listing serves a whole batch (the API has no multi-id filter)
    getNodes: batchFromListing(listNodes),

    async listImages(filter?: ImageFilter) {
      // why: filtered here, not with ?name=: a snapshot's name is its description, which the API's name filter does not see
      const images = await listImages();
      return images.filter((i) => (filter?.ids === undefined || filter.ids.includes(i.id)) && (filter?.owner === undefined || i.extra.owner === filter.owner) && (filter?.name === undefined || i.name === filter.name));
    },

    async getImages(ids) {
      const byKey = new Map<string, Image>();
      for (const i of await listImages()) {
        byKey.set(i.id, i);
        if (i.extra.type === 'system' && !byKey.has(i.name)) byKey.set(i.name, i);
      }
      return ids.map((id) => byKey.get(id) ?? null);
    },

    // https://docs.hetzner.cloud/reference/cloud#server-types-list-server-types
    listSizes: async () => (await pages('server_types', 'server_types')).map((t) => toSize(t, provider)),

    async listLocations() {
      // https://docs.hetzner.cloud/reference/cloud#locations-list-locations
      // https://docs.hetzner.cloud/reference/cloud#datacenters-list-datacenters
      const [locations, datacenters] = await Promise.all([pages('locations', 'locations'), pages('datacenters', 'datacenters')]);
      return locations.map((l) => toLocation(l, datacenters, provider));
    },

    async createNode(input: CreateNodeInput) {
      const body = serverBody(input, provider);
      // https://docs.hetzner.cloud/reference/cloud#servers-create-a-server
      const res = await conn().request<Json>({ operation: 'POST /servers', method: 'POST', path: 'servers', json: body, expect: [201, 200] });
      // why: the answer may hold root_password; only the server and the action are read from it
      const answer = obj(res.body);
      const server = obj(answer?.server);
      if (!server) throw new MalformedResponseError('POST /servers answered without a server', { provider });
      const created = toNode(server, provider);
      await actions.settle(answer?.action, 'POST /servers');
      return getNode(created.id);
    },

    async destroyNode(id) {
      // https://docs.hetzner.cloud/reference/cloud#servers-delete-a-server
      const res = await conn().request<Json>({ operation: 'DELETE /servers/{id}', method: 'DELETE', path: `servers/${idPath(id, provider, 'a server')}` });
      await actions.settle(obj(res.body)?.action, 'DELETE /servers/{id}');
    },

    rebootNode: (id, o) => action(id, o?.hard ? 'reset' : 'reboot'),
    startNode: (id) => action(id, 'poweron'),
    stopNode: (id) => action(id, 'poweroff'),
  };
}

// --- Internal helpers ---

/** Node tags are Hetzner labels; both sides of each are checked against the label syntax. */
export function checkLabels(tags: Record<string, string> | undefined, provider: string, field = 'tags'): Record<string, string> | undefined {
  if (tags === undefined) return undefined;
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) throw new InvalidInputError(`${field} must map names to strings`, { provider, field });
  for (const [key, value] of Object.entries(tags)) {
    if (!LABEL_KEY.test(key) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new InvalidInputError(`${field}: label ${key} does not fit Hetzner's label syntax (keys [prefix/]name of up to 63 letters, digits, -_.; values up to 63 of the same)`, { provider, field });
    }
  }
  return tags;
}

function serverBody(input: CreateNodeInput, provider: string): Json {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  if (typeof input.name !== 'string' || !NAME.test(input.name)) throw fail('name', 'name must be a host name (RFC 1123)');
  if (typeof input.sizeId !== 'string' || input.sizeId === '') throw fail('sizeId', 'sizeId is required (a server type name)');
  if (typeof input.imageId !== 'string' || input.imageId === '') throw fail('imageId', 'imageId is required (an image id or name)');
  if (input.sshKey !== undefined) throw fail('sshKey', 'Hetzner installs keys registered in the project: pass keyName (the key name or id)');
  const ex = input.ex ?? {};
  const unknown = Object.keys(ex).filter((k) => !EX_KEYS.includes(k));
  if (unknown.length) throw fail(`ex.${unknown[0]}`, `ex.${unknown[0]} is not a Hetzner server option (known: ${EX_KEYS.join(', ')})`);
  const body: Json = { name: input.name, server_type: input.sizeId, image: input.imageId, start_after_create: true };
  if (input.locationId !== undefined) {
    if (typeof input.locationId !== 'string' || input.locationId === '') throw fail('locationId', 'locationId must be a location name');
    if (ex.datacenter !== undefined) throw fail('ex.datacenter', 'give either locationId or ex.datacenter');
    body.location = input.locationId;
  }
  if (ex.datacenter !== undefined) {
    if (typeof ex.datacenter !== 'string' || ex.datacenter === '') throw fail('ex.datacenter', 'ex.datacenter must be a datacenter name');
    body.datacenter = ex.datacenter;
  }
  if (input.keyName !== undefined) {
    if (typeof input.keyName !== 'string' || input.keyName === '') throw fail('keyName', 'keyName must be an SSH key name or id');
    body.ssh_keys = [input.keyName];
  }
  if (input.userData !== undefined) {
    if (Buffer.byteLength(input.userData, 'utf8') > USER_DATA_MAX) throw fail('userData', `userData must be at most ${USER_DATA_MAX} bytes`);
    body.user_data = input.userData;
  }
  const labels = checkLabels(input.tags, provider);
  if (labels && Object.keys(labels).length) body.labels = labels;
  if (ex.startAfterCreate !== undefined) {
    if (typeof ex.startAfterCreate !== 'boolean') throw fail('ex.startAfterCreate', 'ex.startAfterCreate must be true or false');
    body.start_after_create = ex.startAfterCreate;
  }
  if (ex.enableIpv4 !== undefined || ex.enableIpv6 !== undefined) {
    for (const k of ['enableIpv4', 'enableIpv6'] as const) if (ex[k] !== undefined && typeof ex[k] !== 'boolean') throw fail(`ex.${k}`, `ex.${k} must be true or false`);
    body.public_net = { enable_ipv4: ex.enableIpv4 ?? true, enable_ipv6: ex.enableIpv6 ?? true };
  }
  for (const [k, key] of [['networks', 'networks'], ['firewalls', 'firewalls']] as const) {
    if (ex[k] === undefined) continue;
    if (!Array.isArray(ex[k]) || !ex[k].every((n) => Number.isInteger(n) || (typeof n === 'string' && /^\d+$/.test(n)))) throw fail(`ex.${k}`, `ex.${k} must be a list of ${k} ids`);
    body[key] = k === 'firewalls' ? ex[k].map((f: unknown) => ({ firewall: Number(f) })) : ex[k].map(Number);
  }
  if (ex.placementGroup !== undefined) {
    if (!(Number.isInteger(ex.placementGroup) || (typeof ex.placementGroup === 'string' && /^\d+$/.test(ex.placementGroup)))) throw fail('ex.placementGroup', 'ex.placementGroup must be a placement group id');
    body.placement_group = Number(ex.placementGroup);
  }
  return body;
}
