/**
 * The Compute Engine compute driver for one (account, region): the region's instances (one
 * aggregatedList call per page for all zones), images of the project and of the public image
 * projects, machine types with prices (sizes.ts), zones, and the instance lifecycle, each change
 * waiting for its zone operation.
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1/instances
 */
import { InvalidInputError, MalformedResponseError } from '../../errors.ts';
import type { ComputeDriver, CreateNodeInput, Image, ImageFilter, Node } from '../../types.ts';
import { PROJECT_ID } from '../auth.ts';
import { nameFilter } from '../client.ts';
import { lastSegment, str } from '../json.ts';
import { FILTER_NAMES_MAX, parseNodeId, requestIdFor, zoneRegion, type GceApi } from './api.ts';
import { instanceBody } from './create-node.ts';
import { isDeprecatedImage, toImage, toLocation, toNode, toSize } from './mappers.ts';

/** Driver settings from the account options. */
export interface GceComputeOptions {
  /** public image projects listed beside the account's own project (default: debian-cloud, ubuntu-os-cloud) */
  imageProjects: readonly string[];
  /** zone for createNode without a locationId (default: the region's first zone that is UP) */
  zone?: string | undefined;
}

export const DEFAULT_IMAGE_PROJECTS: readonly string[] = ['debian-cloud', 'ubuntu-os-cloud'];

export function gceComputeDriver(api: GceApi, opts: GceComputeOptions): ComputeDriver {
  const { provider, region } = api;
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });

  const instancePath = (id: string, field = 'id') => {
    const { zone, name } = parseNodeId(id, provider, field);
    return `zones/${zone}/instances/${name}`;
  };
  /** Starts an instance action and waits for its zone operation. */
  const act = async (operation: string, id: string, suffix: string, method = 'POST') => {
    const op = await api.call(operation, `${instancePath(id)}${suffix}`, { method });
    await api.wait(op, operation);
  };

  const imagesOf = async (project: string, filter?: string, includeDeprecated = false): Promise<Image[]> => {
    // https://cloud.google.com/compute/docs/reference/rest/v1/images/list
    const items = await api.list('GET images', 'global/images', { filter }, project);
    return items.filter((img) => includeDeprecated || !isDeprecatedImage(img)).map((img) => toImage(img, project));
  };

  const projects = async (owner: string | undefined): Promise<string[]> => {
    if (owner !== undefined) {
      const named = typeof owner === 'string' ? owner.split(',').map((o) => o.trim()).filter(Boolean) : [];
      if (named.length === 0 || !named.every((p) => PROJECT_ID.test(p))) throw fail('owner', 'owner must be a project id, or several separated by commas');
      return named;
    }
    return [await api.client.project(), ...opts.imageProjects];
  };

  const getImages = async (ids: readonly string[]): Promise<(Image | null)[]> => {
    const byProject = new Map<string, Set<string>>();
    for (const id of ids) {
      const m = /^([a-z0-9.:-]+)\/([a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$/.exec(id);
      if (m) byProject.set(m[1]!, (byProject.get(m[1]!) ?? new Set()).add(m[2]!));
    }
    const found = new Map<string, Image>();
    await Promise.all(
      [...byProject].flatMap(([project, names]) =>
        chunk([...names], FILTER_NAMES_MAX).map(async (part) => {
          for (const img of await imagesOf(project, nameFilter(part), true)) found.set(img.id, img);
        }),
      ),
    );
    return ids.map((id) => found.get(id) ?? null);
  };

  const defaultZone = async (): Promise<string> => {
    if (opts.zone) return opts.zone;
    const zones = await api.zones();
    const up = zones.find((z) => str(z.status) === 'UP') ?? zones[0];
    const name = str(up?.name);
    if (!name) throw new MalformedResponseError(`region ${region} has no zones`, { provider });
    return name;
  };

  return {
    listNodes: async () => (await api.aggregated('instances')).map((i) => toNode(i, provider)),

    async getNodes(ids) {
      const wanted = new Map<string, string[]>();
      for (const id of ids) {
        const m = typeof id === 'string' ? /^([a-z][-a-z0-9]*)\/([a-z][-a-z0-9]*)$/.exec(id) : null;
        if (m && zoneRegion(m[1]!) === region) wanted.set(m[2]!, [...(wanted.get(m[2]!) ?? []), id]);
      }
      const found = new Map<string, Node>();
      await Promise.all(
        chunk([...wanted.keys()], FILTER_NAMES_MAX).map(async (names) => {
          for (const i of await api.aggregated('instances', { filter: nameFilter(names) })) {
            const node = toNode(i, provider);
            found.set(node.id, node);
          }
        }),
      );
      return ids.map((id) => found.get(id) ?? null);
    },

    async listImages(filter?: ImageFilter) {
      if (filter?.ids !== undefined) return (await getImages(filter.ids)).filter((i): i is Image => i !== null);
      if (filter?.name !== undefined && (typeof filter.name !== 'string' || !/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(filter.name))) {
        throw fail('name', 'name must be an image name (lower-case letters, digits, hyphens)');
      }
      const named = filter?.name ? nameFilter([filter.name]) : undefined;
      const lists = await Promise.all((await projects(filter?.owner)).map((p) => imagesOf(p, named, named !== undefined)));
      return lists.flat();
    },

    getImages,

    async listSizes() {
      // https://cloud.google.com/compute/docs/reference/rest/v1/machineTypes/list
      const types = await api.list('GET machineTypes', `zones/${await defaultZone()}/machineTypes`);
      return types.map((mt) => toSize(mt, region));
    },

    listLocations: async () => (await api.zones()).map(toLocation),

    async createNode(input: CreateNodeInput) {
      const zone = input.locationId ?? (await defaultZone());
      if (typeof zone !== 'string' || !/^[a-z][-a-z0-9]*-[a-z0-9]+$/.test(zone) || zoneRegion(zone) !== region) {
        throw fail('locationId', `locationId must be a zone of ${region} (like ${region}-a)`);
      }
      const body = instanceBody(input, zone, region, provider);
      // https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert
      const op = await api.call('POST instances', `zones/${zone}/instances`, { method: 'POST', json: body, query: { requestId: requestIdFor(input.clientToken) } });
      const done = await api.wait(op, 'POST instances');
      const name = lastSegment(done.targetLink) ?? String(body.name);
      // https://cloud.google.com/compute/docs/reference/rest/v1/instances/get
      return toNode(await api.call('GET instance', `zones/${zone}/instances/${name}`), provider);
    },

    // https://cloud.google.com/compute/docs/reference/rest/v1/instances/delete
    destroyNode: (id) => act('DELETE instance', id, '', 'DELETE'),

    // https://cloud.google.com/compute/docs/reference/rest/v1/instances/reset
    // why: Compute Engine has no guest-level reboot; reset is a hard one either way
    rebootNode: (id) => act('POST instances/reset', id, '/reset'),

    // https://cloud.google.com/compute/docs/reference/rest/v1/instances/start
    startNode: (id) => act('POST instances/start', id, '/start'),

    // https://cloud.google.com/compute/docs/reference/rest/v1/instances/stop
    stopNode: (id) => act('POST instances/stop', id, '/stop'),
  };
}

// --- Internal helpers ---

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
