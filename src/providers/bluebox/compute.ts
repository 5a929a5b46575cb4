/**
 * The Blue Box Blocks compute driver: blocks as nodes, block templates as images, block products
 * as sizes, the one Blue Box location. Blocks have no stop/start, tags, key pairs or user data.
 *
 * Blue Box Blocks (boxpanel.bluebox.net/api) is no longer offered: this driver is kept on
 * recorded responses (fixtures/bluebox).
 */
import { isIP } from 'node:net';
import { batchFromListing } from '../batch.ts';
import { InvalidInputError, MalformedResponseError, ProviderError } from '../errors.ts';
import type { Connection, RequestOptions } from '../http/connection.ts';
import { scrubError } from '../http/redact.ts';
import { str, type Json } from '../rest/json.ts';
import type { ComputeDriver, CreateNodeInput, Image, Location, Node, NodeState, Size } from '../types.ts';

export const DRIVER_NAME = 'bluebox';

/** Block `status` values (queued and building while provisioning). */
export const NODE_STATE: Readonly<Record<string, NodeState>> = {
  queued: 'pending',
  building: 'pending',
  running: 'running',
  error: 'error',
};

/** Blue Box ran Blocks from its Seattle data centre only; the API takes no location on create. */
export const BLUEBOX_LOCATION: Location = { id: 'seattle', name: 'Blue Box Seattle', country: 'US', extra: {} };

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export function blueboxComputeDriver(conn: () => Connection, secrets: () => string[]): ComputeDriver {
  const request = async <T>(operation: string, opts: Omit<RequestOptions, 'operation'>): Promise<T> => {
    try {
      return (await conn().request<T>({ operation, ...opts })).body;
    } catch (err) {
      // why: the connection scrubs the Authorization header; an upstream body could still echo the plain api key
      throw scrubError(err, secrets().filter((s) => s.length >= 4));
    }
  };
  const array = (body: unknown, operation: string): Json[] => {
    if (!Array.isArray(body)) throw new MalformedResponseError(`${operation} answered without a list`, { provider: DRIVER_NAME });
    return body.filter((o): o is Json => !!o && typeof o === 'object' && !Array.isArray(o));
  };

  const listNodes = async (): Promise<Node[]> => {
    // GET /api/blocks.json
    return array(await request('GET /api/blocks.json', { path: 'api/blocks.json' }), 'GET /api/blocks.json').map(toNode);
  };
  const templates = async (): Promise<Image[]> => {
    // GET /api/block_templates.json
    return array(await request('GET /api/block_templates.json', { path: 'api/block_templates.json' }), 'GET /api/block_templates.json').map(toImage);
  };

  return {
    listNodes,

    // why: the API has no multi-id lookup; one listing per batch beats one GET per id
    getNodes: batchFromListing(listNodes),

    async listImages(filter) {
      return (await templates()).filter((i) => (filter?.ids === undefined || filter.ids.includes(i.id)) && (filter?.name === undefined || i.name === filter.name));
    },

    getImages: batchFromListing(templates),

    async listSizes() {
      // GET /api/block_products.json
      return array(await request('GET /api/block_products.json', { path: 'api/block_products.json' }), 'GET /api/block_products.json').map(toSize);
    },

    listLocations: async () => [BLUEBOX_LOCATION],

    async createNode(input: CreateNodeInput) {
      const form = createForm(input);
      // POST /api/blocks.json (form-encoded; answers the queued block)
      const body = await request<unknown>('POST /api/blocks.json', { method: 'POST', path: 'api/blocks.json', form });
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new MalformedResponseError('POST /api/blocks.json answered without a block', { provider: DRIVER_NAME });
      return toNode(body as Json);
    },

    async destroyNode(id) {
      // DELETE /api/blocks/{id}.json
      await request('DELETE /api/blocks/{id}.json', { method: 'DELETE', path: `api/blocks/${blockId(id)}.json`, responseType: 'none' });
    },

    async rebootNode(id) {
      // PUT /api/blocks/{id}/reboot.json -> {"status": "ok", "text": "Reboot initiated."}
      const body = await request<Json | undefined>('PUT /api/blocks/{id}/reboot.json', { method: 'PUT', path: `api/blocks/${blockId(id)}/reboot.json`, form: {} });
      if (body?.status !== 'ok') throw new ProviderError(`reboot of block ${id} was not initiated: ${String(body?.text ?? 'no reason given').slice(0, 200)}`, { provider: DRIVER_NAME });
    },
  };
}

export function toNode(block: Json): Node {
  const id = str(block.id);
  if (!id) throw new MalformedResponseError('a block without an id', { provider: DRIVER_NAME });
  const ips = (Array.isArray(block.ips) ? block.ips : []).map((ip) => str((ip as Json | null)?.address)).filter((a): a is string => !!a && isIP(a) !== 0);
  const product = block.product && typeof block.product === 'object' ? (block.product as Json) : undefined;
  const status = str(block.status) ?? 'unknown';
  return {
    id,
    name: str(block.hostname) ?? '',
    state: NODE_STATE[status] ?? 'unknown',
    publicIps: ips,
    privateIps: [],
    sizeId: str(product?.id) ?? null,
    // why: a block names its template by a short name ("centos"), not by the template id
    imageId: null,
    locationId: BLUEBOX_LOCATION.id,
    createdAt: null,
    tags: {},
    extra: {
      status,
      description: str(block.description) ?? null,
      template: str(block.template) ?? null,
      memoryMib: typeof block.memory === 'number' ? Math.round(block.memory / MIB) : null,
      storageGb: typeof block.storage === 'number' ? Math.round(block.storage / GIB) : null,
      cpu: typeof block.cpu === 'number' ? block.cpu : null,
    },
  };
}

export function toSize(product: Json): Size {
  const id = str(product.id);
  if (!id) throw new MalformedResponseError('a block product without an id', { provider: DRIVER_NAME });
  const description = str(product.description) ?? id;
  const ram = /(\d+(?:\.\d+)?)\s*GB/i.exec(description);
  const disk = /(\d+)\s*GB\s+Disk/i.exec(description);
  return {
    id,
    name: description,
    ram: ram ? Math.round(Number(ram[1]) * 1024) : 0,
    // why: products name their memory only; the disk comes with it and shows on the block (storage)
    disk: disk ? Number(disk[1]) : 0,
    bandwidth: null,
    price: typeof product.cost === 'number' && Number.isFinite(product.cost) ? product.cost : null,
    extra: { description, diskKnown: disk !== null },
  };
}

export function toImage(template: Json): Image {
  const id = str(template.id);
  if (!id) throw new MalformedResponseError('a block template without an id', { provider: DRIVER_NAME });
  const created = str(template.created);
  // "2009/04/20 15:46:34 -0700"
  const m = created ? /^(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$/.exec(created) : null;
  return {
    id,
    name: str(template.description) ?? id,
    extra: { public: template.public === true, createdAt: m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}${m[5]}:${m[6]}`).toISOString() : null },
  };
}

// --- Internal helpers ---

function blockId(id: string): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new InvalidInputError('id must be a block id', { provider: DRIVER_NAME, field: 'id' });
  return id;
}

/** The create form; blocks take a password or an SSH key, never neither. */
function createForm(input: CreateNodeInput): Record<string, string> {
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider: DRIVER_NAME, field });
  if (typeof input.name !== 'string' || !HOSTNAME.test(input.name)) throw fail('name', 'name must be a hostname (letters, digits, "-" and ".")');
  if (typeof input.sizeId !== 'string' || !ID.test(input.sizeId)) throw fail('sizeId', 'sizeId must be a block product id');
  if (typeof input.imageId !== 'string' || !ID.test(input.imageId)) throw fail('imageId', 'imageId must be a block template id');
  if (input.locationId !== undefined && input.locationId !== BLUEBOX_LOCATION.id) throw fail('locationId', `locationId must be ${BLUEBOX_LOCATION.id}, Blue Box's only location`);
  if (input.tags && Object.keys(input.tags).length > 0) throw fail('tags', 'blocks have no tags');
  if (input.keyName !== undefined) throw fail('keyName', 'Blue Box has no key pairs: pass the public key as sshKey');
  if (input.userData !== undefined) throw fail('userData', 'blocks take no user data');
  const ex = input.ex ?? {};
  const form: Record<string, string> = { product: input.sizeId, template: input.imageId, hostname: input.name };
  if (ex.username !== undefined) {
    if (typeof ex.username !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(ex.username)) throw fail('ex.username', 'ex.username must be a Unix user name');
    form.username = ex.username;
  }
  if (input.sshKey !== undefined) {
    if (typeof input.sshKey !== 'string' || input.sshKey.trim() === '' || /[\r\n]/.test(input.sshKey.trim())) throw fail('sshKey', 'sshKey must be one OpenSSH public key line');
    form.ssh_public_key = input.sshKey.trim();
  } else if (ex.password !== undefined) {
    if (typeof ex.password !== 'string' || ex.password.length < 8) throw fail('ex.password', 'ex.password must be at least 8 characters');
    form.password = ex.password;
  } else {
    throw fail('sshKey', 'a block needs sshKey (or ex.password) to be reachable');
  }
  return form;
}
