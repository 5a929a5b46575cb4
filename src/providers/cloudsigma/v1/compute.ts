/**
 * The CloudSigma API 1.0 compute driver for one (account, location): servers as nodes, the disk
 * drives of the standard library as images, skygraph's standard sizes at indicative prices (1.0
 * has no pricing call), the location itself.
 *
 * createNode clones the library drive (grown to the size's disk when the image is smaller), waits
 * while the clone is imaging, then creates the server with it, which 1.0 starts at once.
 */
import { batchFromListing } from '../../batch.ts';
import { InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { KvPairs } from '../../http/parsers/kv.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../../types.ts';
import { checkCreateInput, filterImages, newVncPassword, pollFor, regionLocation, toSizes, type UnitRates } from '../common.ts';
import { CLOUDSIGMA_REGIONS, DRIVER_NAME, type Cs1Api, type KvRecord } from './api.ts';
import { attachedDrives, toImage, toNode } from './mappers.ts';

/**
 * Indicative USD unit prices for API 1.0, which has no pricing call: set options.prices for the
 * account's own.
 */
export const INDICATIVE_RATES: UnitRates = { cpuGhzHour: 0.014, memGbHour: 0.018, diskGbMonth: 0.146 };

const GIB = 1024 ** 3;

export function cs1ComputeDriver(api: Cs1Api, prices?: Record<string, number>): ComputeDriver {
  const waitOpts = { provider: DRIVER_NAME, now: api.now, sleep: api.sleep, pollIntervalMs: api.pollIntervalMs, waitTimeoutMs: api.waitTimeoutMs };

  const listNodes = async (): Promise<Node[]> => {
    // GET /servers/info: every server of the account, one record each
    return (await api.get('GET /servers/info', 'servers/info')).map((r) => toNode(r, api.region));
  };

  const serverInfo = async (id: string): Promise<KvRecord> => one(await api.get('GET /servers/{uuid}/info', `servers/${uuidPath(id, 'id')}/info`), 'server', id);

  const serverAction = async (id: string, action: 'start' | 'stop' | 'shutdown' | 'reset' | 'destroy') => {
    // POST /servers/{uuid}/{action} (no body)
    await api.post(`POST /servers/{uuid}/${action}`, `servers/${uuidPath(id, 'id')}/${action}`);
  };

  const standardDrives = async (): Promise<Image[]> => {
    // GET /drives/standard/info: CloudSigma's library; CD-ROMs are installers, only disks boot a clone
    return (await api.get('GET /drives/standard/info', 'drives/standard/info')).filter((r) => r.type === 'disk').map(toImage);
  };

  const destroyDrive = async (uuid: string) => {
    // POST /drives/{uuid}/destroy
    await api.post('POST /drives/{uuid}/destroy', `drives/${uuidPath(uuid, 'drive')}/destroy`);
  };

  return {
    listNodes,

    // why: 1.0 has no multi-id lookup; one listing per batch beats one GET per id
    getNodes: batchFromListing(listNodes),

    listImages: async (filter?: ImageFilter) => filterImages(await standardDrives(), filter),

    getImages: batchFromListing(standardDrives),

    listSizes: async () => toSizes(INDICATIVE_RATES, prices, { priceSource: prices ? 'options.prices' : 'indicative' }),

    listLocations: async () => regionLocation(CLOUDSIGMA_REGIONS, api.region),

    async createNode(input: CreateNodeInput) {
      const { name, size, imageId } = checkCreateInput(input, DRIVER_NAME, api.region);
      refuseUnsupported(input);
      // GET /drives/{uuid}/info of the image: its size and media decide the clone
      const source = one(await api.get('GET /drives/{uuid}/info', `drives/${uuidPath(imageId, 'imageId')}/info`).catch(notFoundAs('imageId')), 'drive', imageId);
      if (source.type === 'cdrom') throw new InvalidInputError('imageId is a CD-ROM; createNode boots a disk image', { provider: DRIVER_NAME, field: 'imageId' });
      const bytes = Math.max(Number(source.size ?? 0) || 0, size.diskGb * GIB);
      // POST /drives/{uuid}/clone
      const clone = one(await api.post('POST /drives/{uuid}/clone', `drives/${imageId}/clone`, [['name', name], ['size', String(bytes)]]), 'cloned drive', imageId);
      const driveUuid = clone.drive;
      if (!driveUuid) throw new MalformedResponseError('POST /drives/{uuid}/clone answered without the new drive', { provider: DRIVER_NAME });
      const vncPassword = newVncPassword();
      try {
        await pollFor(
          async () => {
            const drive = one(await api.get('GET /drives/{uuid}/info', `drives/${uuidPath(driveUuid, 'drive')}/info`), 'drive', driveUuid);
            // why: a drive reports `imaging` (a percentage) while a clone fills it
            return drive.imaging === undefined || drive.imaging === '' ? true : undefined;
          },
          `drive ${driveUuid} to finish imaging`,
          waitOpts,
        );
        const body: KvPairs = [
          ['name', name],
          ['cpu', String(size.cpuMhz)],
          ['smp', String(size.smp)],
          ['mem', String(size.ramMib)],
          // why: a non-persistent server is destroyed when it stops
          ['persistent', 'true'],
          ['ide:0:0', driveUuid],
          ['boot', 'ide:0:0'],
          ['nic:0:model', 'e1000'],
          ['nic:0:dhcp', 'auto'],
          ['vnc:ip', 'auto'],
          ['vnc:password', vncPassword],
        ];
        // POST /servers/create: creates and starts the server
        const created = one(await api.post('POST /servers/create', 'servers/create', body, { secrets: [vncPassword] }), 'created server', name);
        return toNode(created, api.region);
      } catch (err) {
        await destroyDrive(driveUuid).catch(() => undefined);
        throw err;
      }
    },

    async destroyNode(id) {
      const info = await serverInfo(id);
      if (info.status === 'active' || info.status === 'paused') await serverAction(id, 'stop');
      await serverAction(id, 'destroy');
      // why: 1.0 keeps a server's drives; the disks were cloned for it (CD-ROMs are library drives)
      for (const { uuid, media } of Object.values(attachedDrives(info))) {
        if (media === 'cdrom') continue;
        await destroyDrive(uuid).catch((err: unknown) => api.logger.warn('cloudsigma: could not destroy a drive of a destroyed server', { drive: uuid, error: err instanceof Error ? err.message : String(err) }));
      }
    },

    // why: `reset` is API 1.0's only reboot; it is a hard one whatever opts.hard says
    rebootNode: (id) => serverAction(id, 'reset'),
    startNode: (id) => serverAction(id, 'start'),
    stopNode: (id) => serverAction(id, 'stop'),
  };
}

// --- Internal helpers ---

const UUID = /^[0-9a-fA-F_-]{1,64}$/;

function uuidPath(id: string, field: string): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidInputError(`${field} must be a CloudSigma uuid`, { provider: DRIVER_NAME, field });
  return id;
}

function one(records: KvRecord[], what: string, id: string): KvRecord {
  const first = records[0];
  if (!first) throw new NotFoundError(`${what} ${id}: the answer held no record`, { provider: DRIVER_NAME });
  return first;
}

function notFoundAs(field: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof NotFoundError) throw new InvalidInputError(`${field} names no drive`, { provider: DRIVER_NAME, field });
    throw err;
  };
}

/** API 1.0 has no tags, key pairs or user data: asking for them is an error, not a silent drop. */
function refuseUnsupported(input: CreateNodeInput): void {
  const refuse = (field: string, what: string) => {
    throw new InvalidInputError(`${field}: CloudSigma API 1.0 has no ${what} (use the cloudsigma2 driver)`, { provider: DRIVER_NAME, field });
  };
  if (input.tags && Object.keys(input.tags).length > 0) refuse('tags', 'server tags');
  if (input.keyName !== undefined) refuse('keyName', 'key pairs');
  if (input.sshKey !== undefined) refuse('sshKey', 'SSH key injection');
  if (input.userData !== undefined) refuse('userData', 'user data');
}
