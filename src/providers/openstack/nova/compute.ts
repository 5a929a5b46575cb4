/**
 * The Nova compute driver (compute API v2.1) for one (account, region): servers, flavors as
 * sizes, images (Glance v2 when the account has an image endpoint, Nova's images API otherwise),
 * availability zones as locations, and key pairs (key-pairs.ts).
 */
import { batchFromListing, pickByIds } from '../../batch.ts';
import { InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import { obj, str, type Json } from '../../rest/json.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Location, Node } from '../../types.ts';
import { glanceNext, novaNext, paginate, type NovaApi } from './api.ts';
import { novaKeyPairs } from './key-pairs.ts';
import { toGlanceImage, toLocation, toNode, toNovaImage, toSize } from './mappers.ts';

/** why: Nova rejects user_data over 65535 bytes once base64-encoded */
const USER_DATA_MAX = 65_535;

export function novaComputeDriver(api: NovaApi, prices?: Record<string, number>): ComputeDriver {
  const provider = api.provider;
  const regionLocation = api.variant.regionCountries && api.region ? api.region : undefined;

  const listNodes = async (): Promise<Node[]> => {
    const conn = await api.compute();
    // https://docs.openstack.org/api-ref/compute/#list-servers-detailed
    const servers = await paginate(conn, provider, 'servers/detail', { limit: api.pageSize }, 'servers', novaNext('servers_links'));
    return servers.map((s) => toNode(s, provider, regionLocation));
  };

  const getNode = async (id: string): Promise<Node> => {
    const conn = await api.compute();
    // https://docs.openstack.org/api-ref/compute/#show-server-details
    const res = await conn.request<Json>({ operation: 'GET /servers/{id}', path: `servers/${serverId(id, provider)}` });
    const server = obj(obj(res.body)?.server);
    if (!server) throw new MalformedResponseError('GET /servers/{id} answered without a server', { provider });
    return toNode(server, provider, regionLocation);
  };

  const action = async (id: string, name: string, body: unknown) => {
    const conn = await api.compute();
    // https://docs.openstack.org/api-ref/compute/#servers-run-an-action-servers-action
    await conn.request({ operation: `POST /servers/{id}/action ${name}`, method: 'POST', path: `servers/${serverId(id, provider)}/action`, json: body, responseType: 'none' });
  };

  const glanceImages = async (query: Record<string, string | number | undefined>): Promise<Image[] | undefined> => {
    const glance = await api.image();
    if (!glance) return undefined;
    // https://docs.openstack.org/api-ref/image/v2/#list-images
    const images = await paginate(glance, provider, 'v2/images', { limit: api.pageSize, ...query }, 'images', glanceNext);
    return images.map((i) => toGlanceImage(i, provider));
  };

  const novaImages = async (name?: string): Promise<Image[]> => {
    const conn = await api.compute();
    // https://docs.openstack.org/api-ref/compute/#list-images-with-details (deprecated proxy to Glance)
    const images = await paginate(conn, provider, 'images/detail', { limit: api.pageSize, name }, 'images', novaNext('images_links'));
    return images.map((i) => toNovaImage(i, provider));
  };

  const getImages = async (ids: readonly string[]): Promise<(Image | null)[]> => {
    const unique = [...new Set(ids)].filter((id) => id !== '');
    if (unique.length === 0) return ids.map(() => null);
    const found = (await glanceImages({ id: `in:${unique.map(quoteInValue).join(',')}` })) ?? (await novaImages());
    return pickByIds(found, ids);
  };

  return {
    listNodes,

    // why: Nova has no multi-id filter; one listing per batch beats one GET per id
    getNodes: batchFromListing(listNodes),

    async listImages(filter?: ImageFilter) {
      if (filter?.ids !== undefined) {
        const got = (await getImages(filter.ids)).filter((i): i is Image => i !== null);
        return got.filter((i) => matchesFilter(i, filter));
      }
      const fromGlance = await glanceImages({ name: filter?.name, owner: filter?.owner });
      if (fromGlance) return fromGlance;
      // why: Nova's images API knows no owner, so only the name filter applies (upstream and here)
      return (await novaImages(filter?.name)).filter((i) => matchesFilter(i, filter));
    },

    getImages,

    async listSizes() {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#list-flavors-with-details
      const flavors = await paginate(conn, provider, 'flavors/detail', { limit: api.pageSize }, 'flavors', novaNext('flavors_links'));
      return flavors.map((f) => toSize(f, provider, prices));
    },

    async listLocations(): Promise<Location[]> {
      if (api.variant.regionCountries) {
        if (!api.region) return [];
        return [{ id: api.region, name: api.region, country: api.variant.regionCountries[api.region] ?? '', extra: {} }];
      }
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#get-availability-zone-information
      const res = await conn.request<Json>({ operation: 'GET /os-availability-zone', path: 'os-availability-zone' });
      const zones = obj(res.body)?.availabilityZoneInfo;
      if (!Array.isArray(zones)) throw new MalformedResponseError('GET /os-availability-zone answered without availabilityZoneInfo', { provider });
      return zones.map((z) => toLocation(obj(z) ?? {})).filter((l): l is Location => l !== undefined);
    },

    async createNode(input: CreateNodeInput) {
      const body = serverBody(input, api);
      const conn = await api.compute();
      const micro = api.variant.createMicroversion;
      // https://docs.openstack.org/api-ref/compute/#create-server
      const res = await conn.request<Json>({
        operation: 'POST /servers',
        method: 'POST',
        path: 'servers',
        json: { server: body },
        headers: micro ? { 'x-openstack-nova-api-version': micro, 'openstack-api-version': `compute ${micro}` } : {},
        expect: [202, 200],
      });
      const id = str(obj(obj(res.body)?.server)?.id);
      if (!id) throw new MalformedResponseError('POST /servers answered without a server id', { provider });
      try {
        return await getNode(id);
      } catch (err) {
        // why: the server exists; a lagging read must not make the create look failed
        if (!(err instanceof NotFoundError)) throw err;
        return toNode({ id, name: input.name, status: 'BUILD' }, provider, regionLocation);
      }
    },

    async destroyNode(id) {
      const conn = await api.compute();
      // https://docs.openstack.org/api-ref/compute/#delete-server
      await conn.request({ operation: 'DELETE /servers/{id}', method: 'DELETE', path: `servers/${serverId(id, provider)}`, responseType: 'none' });
    },

    rebootNode: (id, opts) => action(id, 'reboot', { reboot: { type: opts?.hard ? 'HARD' : 'SOFT' } }),
    // https://docs.openstack.org/api-ref/compute/#start-server-os-start-action
    startNode: (id) => action(id, 'os-start', { 'os-start': null }),
    // https://docs.openstack.org/api-ref/compute/#stop-server-os-stop-action
    stopNode: (id) => action(id, 'os-stop', { 'os-stop': null }),

    ...novaKeyPairs(api),
  };
}

// --- Internal helpers ---

function serverId(id: string, provider: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 255) throw new InvalidInputError('id must be a server id', { provider, field: 'id' });
  return encodeURIComponent(id);
}

/** Glance `in:` values are comma-separated; a value holding a comma or quote must be quoted. */
function quoteInValue(v: string): string {
  return /[,"]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

function matchesFilter(image: Image, filter: ImageFilter | undefined): boolean {
  if (filter?.name !== undefined && image.name !== filter.name) return false;
  if (filter?.owner !== undefined && image.extra.owner !== undefined && image.extra.owner !== filter.owner) return false;
  return true;
}

function serverBody(input: CreateNodeInput, api: NovaApi): Json {
  const provider = api.provider;
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  const need = (v: unknown, field: string) => {
    if (typeof v !== 'string' || v.trim() === '') throw fail(field, `${field} is required`);
    return v;
  };
  const ex = input.ex ?? {};
  const body: Json = { name: need(input.name, 'name'), flavorRef: need(input.sizeId, 'sizeId'), imageRef: need(input.imageId, 'imageId') };
  if (input.sshKey !== undefined && input.keyName === undefined) {
    throw fail('sshKey', 'Nova installs keys by key pair name: import the key with importKeyPair and pass keyName');
  }
  if (input.keyName !== undefined) body.key_name = need(input.keyName, 'keyName');
  if (input.userData !== undefined) {
    const encoded = Buffer.from(input.userData, 'utf8').toString('base64');
    if (encoded.length > USER_DATA_MAX) throw fail('userData', `userData must be at most ${USER_DATA_MAX} bytes once base64-encoded`);
    body.user_data = encoded;
  }
  if (input.locationId !== undefined && !api.variant.regionCountries) body.availability_zone = need(input.locationId, 'locationId');
  body.networks = networks(ex.networks ?? api.variant.defaultNetworks, fail);
  if (ex.metadata !== undefined) {
    const md = obj(ex.metadata);
    if (!md || !Object.values(md).every((v) => typeof v === 'string')) throw fail('ex.metadata', 'ex.metadata must map strings to strings');
    body.metadata = md;
  }
  if (input.tags && Object.keys(input.tags).length > 0) body.metadata = { ...obj(body.metadata), ...input.tags };
  if (ex.securityGroups !== undefined) {
    if (!Array.isArray(ex.securityGroups) || !ex.securityGroups.every((g) => typeof g === 'string' && g !== '')) {
      throw fail('ex.securityGroups', 'ex.securityGroups must be a list of security group names');
    }
    body.security_groups = ex.securityGroups.map((name: string) => ({ name }));
  }
  if (ex.configDrive !== undefined) body.config_drive = ex.configDrive === true;
  return body;
}

function networks(value: unknown, fail: (field: string, message: string) => Error): unknown {
  if (value === 'auto' || value === 'none') return value;
  if (!Array.isArray(value)) throw fail('ex.networks', "ex.networks must be a list of network ids, 'auto' or 'none'");
  return value.map((n) => {
    if (typeof n === 'string' && n !== '') return { uuid: n };
    const o = obj(n);
    if (o && (typeof o.uuid === 'string' || typeof o.port === 'string')) {
      return Object.fromEntries(Object.entries({ uuid: o.uuid, port: o.port, fixed_ip: o.fixedIp }).filter(([, v]) => typeof v === 'string'));
    }
    throw fail('ex.networks', 'each of ex.networks is a network id or { uuid, fixedIp } or { port }');
  });
}
