/**
 * The CloudSigma API 2.0 compute driver for one (account, location): servers as nodes, disk
 * library drives as images, skygraph's standard sizes priced from /pricing/, the location itself,
 * tags and key pairs (key-pairs.ts).
 *
 * createNode clones the library drive, waits for the clone, grows it to the size's disk, creates
 * the server with it and starts it; a failure after the clone removes what was made.
 */
import { batchFromListing } from '../../batch.ts';
import { InvalidInputError, MalformedResponseError, NotFoundError, ProviderError } from '../../errors.ts';
import { obj } from '../../rest/json.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../../types.ts';
import { checkCreateInput, filterImages, newVncPassword, pollFor, regionLocation, toSizes, type StandardSize } from '../common.ts';
import { CLOUDSIGMA2_REGIONS, DRIVER_NAME, type Cs2Api, type Json } from './api.ts';
import { cs2KeyPairs } from './key-pairs.ts';
import { objects, str, tagName, toImage, toNode, toUnitRates, uuidOf } from './mappers.ts';

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

export function cs2ComputeDriver(api: Cs2Api, prices?: Record<string, number>): ComputeDriver {
  const keyPairs = cs2KeyPairs(api);
  const waitOpts = { provider: DRIVER_NAME, now: api.now, sleep: api.sleep, pollIntervalMs: api.pollIntervalMs, waitTimeoutMs: api.waitTimeoutMs };

  const allTags = async (): Promise<Json[]> => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/tags.html#listing
    return objects(await api.request('GET /tags/', { path: 'tags/', query: { limit: 0 } }), 'GET /tags/');
  };
  const tagNames = (tags: Json[]) => new Map(tags.map((t) => [uuidOf(t, 'tag'), str(t.name) ?? '']));

  const listNodes = async (): Promise<Node[]> => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#detailed-listing (limit=0: every server in one answer)
    const [servers, tags] = await Promise.all([api.request('GET /servers/detail/', { path: 'servers/detail/', query: { limit: 0 } }), allTags()]);
    const names = tagNames(tags);
    return objects(servers, 'GET /servers/detail/').map((s) => toNode(s, names, api.region));
  };

  const getServer = async (id: string): Promise<Json> => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#server-runtime-and-server-details
    const body = obj(await api.request('GET /servers/{uuid}/', { path: `servers/${uuidPath(id, 'id')}/` }));
    if (!body) throw new MalformedResponseError('GET /servers/{uuid}/ answered without a server', { provider: DRIVER_NAME });
    return body;
  };

  const action = async (id: string, name: 'start' | 'stop' | 'shutdown') => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#server-actions
    await api.request(`POST /servers/{uuid}/action/ ${name}`, { method: 'POST', path: `servers/${uuidPath(id, 'id')}/action/`, query: { do: name }, expect: [200, 202] });
  };

  const waitForServer = (id: string, status: string) =>
    pollFor(async () => ((str((await getServer(id)).status) ?? '') === status ? true : undefined), `server ${id} to be ${status}`, waitOpts);

  const stopAndWait = async (id: string, how: 'stop' | 'shutdown') => {
    let status = str((await getServer(id)).status);
    // why: a server still starting refuses a stop; let it finish first
    if (status === 'starting') status = (await waitForServer(id, 'running'), 'running');
    if (status !== 'stopped') {
      if (status !== 'stopping') await action(id, how);
      await waitForServer(id, 'stopped');
    }
  };

  const libdrives = async (): Promise<Image[]> => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/libdrives.html#listing
    const body = await api.request('GET /libdrives/', { path: 'libdrives/', query: { limit: 0 } });
    // why: CD-ROM library drives are installers, attached as they are; only disks boot a clone
    return objects(body, 'GET /libdrives/').filter((d) => d.media === 'disk').map(toImage);
  };

  const waitForDrive = (uuid: string) =>
    pollFor(
      async () => {
        // https://cloudsigma-docs.readthedocs.io/en/latest/drives.html#single-drive
        const drive = obj(await api.request('GET /drives/{uuid}/', { path: `drives/${encodeURIComponent(uuid)}/` })) ?? {};
        const status = str(drive.status);
        if (status === 'unavailable') throw new ProviderError(`drive ${uuid} became unavailable while being prepared`, { provider: DRIVER_NAME });
        return status === 'unmounted' ? drive : undefined;
      },
      `drive ${uuid} to be ready`,
      waitOpts,
    );

  const deleteQuietly = async (operation: string, path: string, query?: Record<string, string>) => {
    await api.request(operation, { method: 'DELETE', path, query, responseType: 'none', expect: [200, 202, 204] }).catch(() => undefined);
  };

  const tagUuids = async (tags: Record<string, string> | undefined): Promise<string[]> => {
    const wanted = [...new Set(Object.entries(tags ?? {}).map(([k, v]) => tagName(k, v)))];
    if (wanted.length === 0) return [];
    const byName = new Map<string, string>();
    for (const t of await allTags()) if (str(t.name) && !byName.has(str(t.name)!)) byName.set(str(t.name)!, uuidOf(t, 'tag'));
    const missing = wanted.filter((n) => !byName.has(n));
    if (missing.length > 0) {
      // https://cloudsigma-docs.readthedocs.io/en/latest/tags.html#creating (several in one call)
      const created = await api.request('POST /tags/', { method: 'POST', path: 'tags/', json: { objects: missing.map((name) => ({ name })) }, expect: [200, 201] });
      for (const t of objects(created, 'POST /tags/')) if (str(t.name)) byName.set(str(t.name)!, uuidOf(t, 'tag'));
    }
    return wanted.map((n) => {
      const id = byName.get(n);
      if (!id) throw new MalformedResponseError(`POST /tags/ did not create tag ${n}`, { provider: DRIVER_NAME });
      return id;
    });
  };

  const prepareDrive = async (imageId: string, name: string, size: StandardSize): Promise<string> => {
    // https://cloudsigma-docs.readthedocs.io/en/latest/libdrives.html#cloning-library-drive
    const cloned = await api.request('POST /libdrives/{uuid}/action/ clone', {
      method: 'POST',
      path: `libdrives/${uuidPath(imageId, 'imageId')}/action/`,
      query: { do: 'clone' },
      json: { name, media: 'disk' },
      expect: [200, 202],
    });
    const uuid = uuidOf(objects(cloned, 'POST /libdrives/{uuid}/action/ clone')[0], 'cloned drive');
    try {
      const drive = await waitForDrive(uuid);
      const want = size.diskGb * GIB;
      if (Number(drive.size ?? 0) < want) {
        // https://cloudsigma-docs.readthedocs.io/en/latest/drives.html#resizing-update-or-fail
        await api.request('POST /drives/{uuid}/action/ resize', {
          method: 'POST',
          path: `drives/${encodeURIComponent(uuid)}/action/`,
          query: { do: 'resize' },
          json: { name: str(drive.name) ?? name, media: 'disk', size: want },
          expect: [200, 202],
        });
        await waitForDrive(uuid);
      }
      return uuid;
    } catch (err) {
      await deleteQuietly('DELETE /drives/{uuid}/', `drives/${encodeURIComponent(uuid)}/`);
      throw err;
    }
  };

  return {
    listNodes,

    // why: the API has no multi-id lookup; one listing per batch beats one GET per id
    getNodes: batchFromListing(listNodes),

    listImages: async (filter?: ImageFilter) => filterImages(await libdrives(), filter),

    getImages: batchFromListing(libdrives),

    async listSizes() {
      // https://cloudsigma-docs.readthedocs.io/en/latest/pricing.html
      const rates = toUnitRates(await api.request('GET /pricing/', { path: 'pricing/', query: { limit: 0 } }));
      return toSizes(rates, prices, { priceSource: prices ? 'options.prices' : rates ? 'pricing' : null });
    },

    listLocations: async () => regionLocation(CLOUDSIGMA2_REGIONS, api.region),

    async createNode(input: CreateNodeInput) {
      const { name, size, imageId } = checkCreateInput(input, DRIVER_NAME, api.region);
      uuidPath(imageId, 'imageId');
      const meta = serverMeta(input);
      const pubkeys = input.keyName !== undefined ? [await keyPairs.keyPairUuid(input.keyName).catch(asInput('keyName'))] : [];
      const tags = await tagUuids(input.tags);
      const driveUuid = await prepareDrive(imageId, name, size);
      let serverUuid: string | undefined;
      try {
        // https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#creating
        const created = await api.request('POST /servers/', {
          method: 'POST',
          path: 'servers/',
          json: {
            objects: [
              {
                name,
                cpu: size.cpuMhz,
                smp: size.smp,
                mem: size.ramMib * MIB,
                vnc_password: newVncPassword(),
                drives: [{ boot_order: 1, dev_channel: '0:0', device: 'virtio', drive: driveUuid }],
                nics: [{ ip_v4_conf: { conf: 'dhcp', ip: null }, model: 'virtio' }],
                ...(tags.length ? { tags } : {}),
                ...(pubkeys.length ? { pubkeys } : {}),
                ...(Object.keys(meta).length ? { meta } : {}),
              },
            ],
          },
          expect: [200, 201],
        });
        serverUuid = uuidOf(objects(created, 'POST /servers/')[0], 'created server');
        await action(serverUuid, 'start');
      } catch (err) {
        if (serverUuid) await deleteQuietly('DELETE /servers/{uuid}/', `servers/${encodeURIComponent(serverUuid)}/`, { recurse: 'disks' });
        else await deleteQuietly('DELETE /drives/{uuid}/', `drives/${encodeURIComponent(driveUuid)}/`);
        throw err;
      }
      const [server, allTagList] = await Promise.all([getServer(serverUuid), tags.length ? allTags() : Promise.resolve([])]);
      return toNode(server, tagNames(allTagList), api.region);
    },

    async destroyNode(id) {
      await stopAndWait(id, 'stop');
      // https://cloudsigma-docs.readthedocs.io/en/latest/servers.html#servers-delete-recursive (disks, not CD-ROMs)
      await api.request('DELETE /servers/{uuid}/', { method: 'DELETE', path: `servers/${uuidPath(id, 'id')}/`, query: { recurse: 'disks' }, responseType: 'none', expect: [200, 202, 204] });
    },

    // why: API 2.0 has no reboot action; a reboot is a stop (hard) or an ACPI shutdown (soft), then a start
    async rebootNode(id, opts) {
      await stopAndWait(id, opts?.hard ? 'stop' : 'shutdown');
      await action(id, 'start');
    },
    startNode: (id) => action(id, 'start'),
    stopNode: (id) => action(id, 'stop'),

    listKeyPairs: keyPairs.listKeyPairs,
    getKeyPair: keyPairs.getKeyPair,
    importKeyPair: keyPairs.importKeyPair,
    deleteKeyPair: keyPairs.deleteKeyPair,
  };
}

// --- Internal helpers ---

const UUID = /^[0-9a-fA-F-]{1,64}$/;

function uuidPath(id: string, field: string): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidInputError(`${field} must be a CloudSigma uuid`, { provider: DRIVER_NAME, field });
  return id;
}

/** cloud-init's CloudSigma datasource reads user data and an SSH key from the server's meta. */
function serverMeta(input: CreateNodeInput): Record<string, string> {
  const meta: Record<string, string> = {};
  const ex = input.ex ?? {};
  if (ex.meta !== undefined) {
    const given = obj(ex.meta);
    if (!given || !Object.values(given).every((v) => typeof v === 'string')) throw new InvalidInputError('ex.meta must map strings to strings', { provider: DRIVER_NAME, field: 'ex.meta' });
    Object.assign(meta, given);
  }
  if (input.sshKey !== undefined) {
    if (typeof input.sshKey !== 'string' || input.sshKey.trim() === '' || /[\r\n]/.test(input.sshKey.trim())) throw new InvalidInputError('sshKey must be one OpenSSH public key line', { provider: DRIVER_NAME, field: 'sshKey' });
    meta.ssh_public_key = input.sshKey.trim();
  }
  if (input.userData !== undefined) meta['cloudinit-user-data'] = input.userData;
  return meta;
}

function asInput(field: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof NotFoundError) throw new InvalidInputError(`${field} names no key pair of this account`, { provider: DRIVER_NAME, field });
    throw err;
  };
}
