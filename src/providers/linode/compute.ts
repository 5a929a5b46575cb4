/**
 * The Linode compute driver (API v4): Linodes with tags, images, types with hourly prices,
 * regions. A Linode created from an image needs a root password: the driver generates a strong
 * one per create and forgets it; it is never returned, stored or logged, and is scrubbed from any
 * error. Keys go in as public keys (authorized_keys).
 */
import { randomBytes } from 'node:crypto';
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { scrubValues } from '../rest/errors.ts';
import { obj, type Json } from '../rest/json.ts';
import { LINODE_PAGES, listAll } from '../rest/paging.ts';
import { tagsToStrings } from '../rest/tags.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../types.ts';
import { toImage, toLocation, toNode, toSize } from './mappers.ts';

export interface LinodeComputeOptions {
  provider: string;
  conn: () => Connection;
  /** page_size, 25 to 500 */
  pageSize: number;
}

/** https://techdocs.akamai.com/linode-api/reference/post-linode-instance (label) */
const LABEL = /^(?=.{3,64}$)[a-zA-Z0-9](?:[a-zA-Z0-9]|[-_.](?![-_.]))*[a-zA-Z0-9]$/;
/** https://techdocs.akamai.com/linode-api/reference/post-tag (label: 3 to 50 characters) */
const TAG_RULE = { pattern: /^[^\s][\s\S]*$/, minLength: 3, maxLength: 50, describe: '3 to 50 characters' };
/** why: Linode's metadata service refuses user data over 64 KiB once base64-encoded */
const USER_DATA_MAX = 65_535;
const EX_KEYS = ['booted', 'privateIp', 'backupsEnabled', 'firewallId', 'authorizedUsers'];

export function linodeComputeDriver(opts: LinodeComputeOptions): ComputeDriver {
  const { provider, conn } = opts;
  const pages = (path: string) => listAll(conn(), { provider, path, itemsKey: 'data', style: LINODE_PAGES, pageSize: opts.pageSize });

  // https://techdocs.akamai.com/linode-api/reference/get-linode-instances
  const listNodes = async (): Promise<Node[]> => (await pages('linode/instances')).map((l) => toNode(l, provider));
  // https://techdocs.akamai.com/linode-api/reference/get-images
  const allImages = async (): Promise<Image[]> => (await pages('images')).map((i) => toImage(i, provider));

  const power = async (id: string, what: 'reboot' | 'boot' | 'shutdown') => {
    // https://techdocs.akamai.com/linode-api/reference/post-reboot-linode-instance
    // https://techdocs.akamai.com/linode-api/reference/post-boot-linode-instance
    // https://techdocs.akamai.com/linode-api/reference/post-shutdown-linode-instance
    await conn().request({ operation: `POST /linode/instances/{id}/${what}`, method: 'POST', path: `linode/instances/${linodePath(id, provider)}/${what}`, json: {}, responseType: 'none' });
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
          (filter?.name === undefined || i.name === filter.name || i.id === filter.name),
      );
    },

    getImages: batchFromListing(allImages),

    // https://techdocs.akamai.com/linode-api/reference/get-linode-types
    listSizes: async () => (await pages('linode/types')).map((t) => toSize(t, provider)),

    // https://techdocs.akamai.com/linode-api/reference/get-regions
    listLocations: async () => (await pages('regions')).map((r) => toLocation(r, provider)),

    async createNode(input: CreateNodeInput) {
      const rootPass = generateRootPassword();
      const body = instanceBody(input, provider, rootPass);
      try {
        // https://techdocs.akamai.com/linode-api/reference/post-linode-instance
        const res = await conn().request<Json>({ operation: 'POST /linode/instances', method: 'POST', path: 'linode/instances', json: body });
        const linode = obj(res.body);
        if (!linode) throw new MalformedResponseError('POST /linode/instances answered without a Linode', { provider });
        return toNode(linode, provider);
      } catch (err) {
        // why: root_pass is not a name the connection knows to be secret; an upstream echo of it must not get out
        throw scrubValues(err, [rootPass]);
      }
    },

    async destroyNode(id) {
      // https://techdocs.akamai.com/linode-api/reference/delete-linode-instance
      await conn().request({ operation: 'DELETE /linode/instances/{id}', method: 'DELETE', path: `linode/instances/${linodePath(id, provider)}`, responseType: 'none' });
    },

    // why: Linode has one reboot; `hard` changes nothing
    rebootNode: (id) => power(id, 'reboot'),
    startNode: (id) => power(id, 'boot'),
    stopNode: (id) => power(id, 'shutdown'),
  };
}

/**
 * 32 random bytes as base64url plus one character of each class Linode's strength check likes;
 * about 256 bits.
 */
export function generateRootPassword(): string {
  return `${randomBytes(32).toString('base64url')}aZ9#`;
}

// --- Internal helpers ---

function linodePath(id: string, provider: string): string {
  if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) throw new InvalidInputError('id must be a Linode id (digits)', { provider, field: 'id' });
  return id;
}

function instanceBody(input: CreateNodeInput, provider: string, rootPass: string): Json {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });
  if (typeof input.name !== 'string' || !LABEL.test(input.name)) throw fail('name', 'name must be 3 to 64 letters, digits, dashes, underscores and dots, starting and ending with a letter or digit, no two separators in a row');
  if (typeof input.sizeId !== 'string' || input.sizeId === '') throw fail('sizeId', 'sizeId is required (a Linode type)');
  if (typeof input.imageId !== 'string' || input.imageId === '') throw fail('imageId', 'imageId is required (an image id such as linode/debian12)');
  if (typeof input.locationId !== 'string' || input.locationId === '') throw fail('locationId', 'locationId is required (a region id)');
  if (input.keyName !== undefined) throw fail('keyName', 'Linode installs public keys directly: pass sshKey (or ex.authorizedUsers for profile users)');
  const ex = input.ex ?? {};
  const unknown = Object.keys(ex).filter((k) => !EX_KEYS.includes(k));
  if (unknown.length) throw fail(`ex.${unknown[0]}`, `ex.${unknown[0]} is not a Linode option (known: ${EX_KEYS.join(', ')})`);
  const body: Json = { label: input.name, type: input.sizeId, region: input.locationId, image: input.imageId, root_pass: rootPass, booted: true };
  if (input.sshKey !== undefined) {
    if (typeof input.sshKey !== 'string' || !/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(input.sshKey.trim())) throw fail('sshKey', 'sshKey must be an OpenSSH public key line');
    body.authorized_keys = [input.sshKey.trim()];
  }
  if (input.userData !== undefined) {
    const encoded = Buffer.from(input.userData, 'utf8').toString('base64');
    if (encoded.length > USER_DATA_MAX) throw fail('userData', `userData must be at most ${USER_DATA_MAX} bytes once base64-encoded`);
    body.metadata = { user_data: encoded };
  }
  const tags = tagsToStrings(input.tags, { provider, ...TAG_RULE });
  if (tags.length) body.tags = tags;
  for (const [k, key] of [['booted', 'booted'], ['privateIp', 'private_ip'], ['backupsEnabled', 'backups_enabled']] as const) {
    if (ex[k] === undefined) continue;
    if (typeof ex[k] !== 'boolean') throw fail(`ex.${k}`, `ex.${k} must be true or false`);
    body[key] = ex[k];
  }
  if (ex.firewallId !== undefined) {
    if (!Number.isInteger(ex.firewallId)) throw fail('ex.firewallId', 'ex.firewallId must be a firewall id (an integer)');
    body.firewall_id = ex.firewallId;
  }
  if (ex.authorizedUsers !== undefined) {
    if (!Array.isArray(ex.authorizedUsers) || !ex.authorizedUsers.every((u) => typeof u === 'string' && u !== '')) throw fail('ex.authorizedUsers', 'ex.authorizedUsers must be a list of user names');
    body.authorized_users = ex.authorizedUsers;
  }
  return body;
}
