/**
 * Compute Engine v1 stand-in state and routes: instances (aggregatedList, get, insert, delete,
 * reset, start, stop), zones, machine types, images of three projects, and zone / region
 * operations that reach DONE one transition after they start. Mutations must carry a UUID
 * requestId; a repeated requestId answers the first operation, as Compute Engine does.
 *
 * https://cloud.google.com/compute/docs/reference/rest/v1
 */
import { randomInt } from 'node:crypto';
import type { ReplayRequest } from '../replay-server.ts';
import { fixture, filterNames, googleError, json, notFound, onlyKeys, onlyQuery, page, requireJson, violation, type GoogleRoutes, type Json } from './core.ts';
import { TEST_PROJECT } from './token.ts';

export const GCE_SELF = `https://www.googleapis.com/compute/v1/projects/${TEST_PROJECT}`;
const P = `/compute/v1/projects/${TEST_PROJECT}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const INSTANCE_KEYS = ['name', 'machineType', 'disks', 'networkInterfaces', 'labels', 'metadata', 'tags', 'scheduling'];

/** The Compute Engine state tests can look at. */
export interface ComputeState {
  /** by `zone/name` */
  instances: Map<string, Json>;
  operations: Map<string, Json>;
  /** instances.insert bodies received */
  inserted: Json[];
  /** the next instances.insert operation ends DONE with this error (then it is cleared) */
  failNextInsert?: { code: string; message: string; httpErrorStatusCode: number } | undefined;
  zones: Json[];
}

export interface ComputeOptions {
  /** the most items one page holds, whatever maxResults asks (default 500) */
  maxResults: number;
  /** scopes (`zones/x`) an aggregated list reports UNREACHABLE */
  unreachable: string[];
}

/** Starts operations: `effects.start` at once, `effects.done` when the operation reaches DONE. */
export type StartOperation = (
  req: ReplayRequest,
  scope: { zone?: string; region?: string },
  type: string,
  target: { link: string; id?: string },
  effects?: { start?: () => void; done?: () => void; error?: { code: string; message: string; httpErrorStatusCode: number } },
) => Json;

/** The operation an earlier request with this request's requestId started, if any. */
export type RepeatedOperation = (req: ReplayRequest) => Json | undefined;

export function installCompute(routes: GoogleRoutes, opts: ComputeOptions): { state: ComputeState; startOperation: StartOperation; repeated: RepeatedOperation } {
  const { route, later } = routes;
  const zones = fixture<{ items: Json[] }>('gce/zones.json').items;
  const zoneNames = new Set(zones.map((z) => z.name as string));
  const machineTypes = fixture<{ items: Json[] }>('gce/machine-types.json').items;
  const images = new Map<string, Json[]>(
    [TEST_PROJECT, 'debian-cloud', 'ubuntu-os-cloud'].map((p) => [p, fixture<{ items: Json[] }>(`gce/images-${p}.json`).items]),
  );
  const seeded = fixture<{ items: Record<string, { instances?: Json[] }> }>('gce/aggregated-instances.json').items;
  const state: ComputeState = {
    instances: new Map(Object.values(seeded).flatMap((s) => s.instances ?? []).map((i) => [`${last(i.zone)}/${String(i.name)}`, i])),
    operations: new Map(),
    inserted: [],
    zones,
  };
  const byRequestId = new Map<string, Json>();
  let seq = 0;

  const startOperation: StartOperation = (req, scope, type, target, effects = {}) => {
    const requestId = req.query.get('requestId');
    if (requestId === null || !UUID.test(requestId)) throw violation(`${req.method} ${type} without a UUID requestId`);
    const repeated = byRequestId.get(requestId);
    if (repeated) return repeated;
    const name = `operation-${Date.now()}-${(++seq).toString(16).padStart(6, '0')}-skygraph`;
    const where = scope.zone ? `zones/${scope.zone}` : scope.region ? `regions/${scope.region}` : 'global';
    const op: Json = {
      kind: 'compute#operation',
      id: String(7_000_000_000_000_000 + seq),
      name,
      operationType: type,
      targetLink: target.link,
      ...(target.id ? { targetId: target.id } : {}),
      status: 'RUNNING',
      user: 'skygraph-ci@skygraph-test.iam.gserviceaccount.com',
      progress: 0,
      insertTime: new Date().toISOString(),
      startTime: new Date().toISOString(),
      selfLink: `${GCE_SELF}/${where}/operations/${name}`,
      ...(scope.zone ? { zone: `${GCE_SELF}/zones/${scope.zone}` } : {}),
      ...(scope.region ? { region: `${GCE_SELF}/regions/${scope.region}` } : {}),
    };
    state.operations.set(`${where}/${name}`, op);
    byRequestId.set(requestId, op);
    effects.start?.();
    later(() => {
      Object.assign(op, { status: 'DONE', progress: 100, endTime: new Date().toISOString() });
      if (effects.error) {
        Object.assign(op, {
          error: { errors: [{ code: effects.error.code, message: effects.error.message }] },
          httpErrorStatusCode: effects.error.httpErrorStatusCode,
          httpErrorMessage: 'SERVICE UNAVAILABLE',
        });
      } else {
        effects.done?.();
      }
    });
    return op;
  };

  const instance = (zone: string, name: string) => {
    if (!zoneNames.has(zone)) throw notFound(`projects/${TEST_PROJECT}/zones/${zone}`);
    const found = state.instances.get(`${zone}/${name}`);
    if (!found) throw notFound(`projects/${TEST_PROJECT}/zones/${zone}/instances/${name}`);
    return found;
  };

  // https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList
  route('GET', new RegExp(`^${P}/aggregated/instances$`), (req) => {
    onlyQuery(req.query, ['maxResults', 'pageToken', 'filter'], 'aggregated/instances');
    const names = filterNames(req.query);
    const all = [...state.instances.values()]
      .filter((i) => names === undefined || names.includes(i.name as string))
      .sort((a, b) => `${last(a.zone)}/${String(a.name)}`.localeCompare(`${last(b.zone)}/${String(b.name)}`));
    const { items, nextPageToken } = page(all, req.query, opts.maxResults);
    const scopes: Record<string, Json> = {};
    for (const z of [...zoneNames].sort()) {
      const here = items.filter((i) => last(i.zone) === z);
      if (opts.unreachable.includes(`zones/${z}`)) {
        scopes[`zones/${z}`] = { warning: { code: 'UNREACHABLE', message: `The resource 'projects/${TEST_PROJECT}/zones/${z}' is unreachable.`, data: [{ key: 'scope', value: `zones/${z}` }] } };
      } else {
        scopes[`zones/${z}`] = here.length
          ? { instances: here }
          : { warning: { code: 'NO_RESULTS_ON_PAGE', message: `There are no results for scope 'zones/${z}' on this page.`, data: [{ key: 'scope', value: `zones/${z}` }] } };
      }
    }
    return json(200, { kind: 'compute#instanceAggregatedList', id: `projects/${TEST_PROJECT}/aggregated/instances`, items: scopes, selfLink: `${GCE_SELF}/aggregated/instances`, ...(nextPageToken ? { nextPageToken } : {}) });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/instances/get
  route('GET', new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)$`), (_req, m) => json(200, instance(m[1]!, m[2]!)));

  // https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert
  route('POST', new RegExp(`^${P}/zones/([^/]+)/instances$`), (req, m) => {
    const zone = m[1]!;
    if (!zoneNames.has(zone)) throw notFound(`projects/${TEST_PROJECT}/zones/${zone}`);
    onlyQuery(req.query, ['requestId'], 'instances.insert');
    const body = requireJson(req);
    const repeated = byRequestId.get(req.query.get('requestId') ?? '');
    if (repeated) return json(200, repeated);
    state.inserted.push(body);
    const created = checkInstance(body, zone, machineTypes, images);
    const key = `${zone}/${String(created.name)}`;
    if (state.instances.has(key)) {
      throw googleError(409, 'alreadyExists', `The resource 'projects/${TEST_PROJECT}/zones/${zone}/instances/${String(created.name)}' already exists`);
    }
    const failure = state.failNextInsert;
    state.failNextInsert = undefined;
    const op = startOperation(req, { zone }, 'insert', { link: created.selfLink as string, id: created.id as string }, {
      start: () => state.instances.set(key, created),
      done: () => {
        created.status = 'STAGING';
        later(() => {
          if (created.status === 'STAGING') Object.assign(created, { status: 'RUNNING', cpuPlatform: 'Intel Cascade Lake', lastStartTimestamp: new Date().toISOString() });
        });
      },
      ...(failure ? { error: failure } : {}),
    });
    if (failure) later(() => state.instances.delete(key));
    return json(200, op);
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/instances/delete
  route('DELETE', new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)$`), (req, m) => {
    onlyQuery(req.query, ['requestId'], 'instances.delete');
    const repeated = byRequestId.get(req.query.get('requestId') ?? '');
    if (repeated) return json(200, repeated);
    const i = instance(m[1]!, m[2]!);
    const op = startOperation(req, { zone: m[1]! }, 'delete', { link: i.selfLink as string, id: i.id as string }, {
      start: () => (i.status = 'STOPPING'),
      done: () => state.instances.delete(`${m[1]!}/${m[2]!}`),
    });
    return json(200, op);
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/instances/reset (and start, stop)
  route('POST', new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)/(reset|start|stop)$`), (req, m) => {
    onlyQuery(req.query, ['requestId'], `instances.${m[3]!}`);
    if (req.body.length) throw violation(`instances.${m[3]!} takes no body`);
    const repeated = byRequestId.get(req.query.get('requestId') ?? '');
    if (repeated) return json(200, repeated);
    const i = instance(m[1]!, m[2]!);
    const action = m[3]!;
    const status = i.status as string;
    if (action === 'reset' && status !== 'RUNNING') throw googleError(400, 'resourceNotReady', `The resource 'projects/${TEST_PROJECT}/zones/${m[1]!}/instances/${m[2]!}' is not ready`);
    const effects =
      action === 'stop'
        ? { start: () => (i.status = 'STOPPING'), done: () => (i.status = 'TERMINATED') }
        : action === 'start'
          ? { start: () => (i.status = status === 'RUNNING' ? 'RUNNING' : 'STAGING'), done: () => (i.status = 'RUNNING') }
          : {};
    return json(200, startOperation(req, { zone: m[1]! }, action, { link: i.selfLink as string, id: i.id as string }, effects));
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/get (and regionOperations)
  route('GET', new RegExp(`^${P}/((?:zones|regions)/[^/]+)/operations/([^/]+)$`), (_req, m) => {
    const op = state.operations.get(`${m[1]!}/${m[2]!}`);
    if (!op) throw notFound(`projects/${TEST_PROJECT}/${m[1]!}/operations/${m[2]!}`);
    return json(200, op);
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/zones/list
  route('GET', new RegExp(`^${P}/zones$`), (req) => {
    onlyQuery(req.query, ['maxResults', 'pageToken'], 'zones.list');
    return json(200, { kind: 'compute#zoneList', id: `projects/${TEST_PROJECT}/zones`, ...page(zones, req.query, opts.maxResults), selfLink: `${GCE_SELF}/zones` });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/machineTypes/list
  route('GET', new RegExp(`^${P}/zones/([^/]+)/machineTypes$`), (req, m) => {
    const zone = m[1]!;
    if (!zoneNames.has(zone)) throw notFound(`projects/${TEST_PROJECT}/zones/${zone}`);
    onlyQuery(req.query, ['maxResults', 'pageToken'], 'machineTypes.list');
    const here = machineTypes.map((t) => ({ ...t, zone, selfLink: `${GCE_SELF}/zones/${zone}/machineTypes/${String(t.name)}` }));
    return json(200, { kind: 'compute#machineTypeList', id: `projects/${TEST_PROJECT}/zones/${zone}/machineTypes`, ...page(here, req.query, opts.maxResults) });
  });

  // https://cloud.google.com/compute/docs/reference/rest/v1/images/list
  route('GET', /^\/compute\/v1\/projects\/([^/]+)\/global\/images$/, (req, m) => {
    const project = decodeURIComponent(m[1]!);
    const list = images.get(project);
    if (!list) throw notFound(`projects/${project}`);
    onlyQuery(req.query, ['maxResults', 'pageToken', 'filter'], 'images.list');
    const names = filterNames(req.query);
    const matching = list.filter((i) => names === undefined || names.includes(i.name as string));
    return json(200, { kind: 'compute#imageList', id: `projects/${project}/global/images`, ...page(matching, req.query, opts.maxResults) });
  });

  return { state, startOperation, repeated: (req) => byRequestId.get(req.query.get('requestId') ?? '') };
}

/** The resource name at the end of a URL. */
export function last(v: unknown): string {
  const s = String(v ?? '');
  return s.slice(s.lastIndexOf('/') + 1);
}

// --- Internal helpers ---

function checkInstance(body: Json, zone: string, machineTypes: Json[], images: Map<string, Json[]>): Json {
  onlyKeys(body, INSTANCE_KEYS, 'instance');
  const name = body.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw violation(`Invalid value for field 'resource.name': '${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
  const type = /^zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(String(body.machineType));
  if (!type || type[1] !== zone) throw violation(`machineType must be zones/${zone}/machineTypes/<type>, got ${String(body.machineType)}`);
  const machineType = machineTypes.find((t) => t.name === type[2]);
  if (!machineType) throw googleError(400, 'invalid', `Invalid value for field 'resource.machineType': '${String(body.machineType)}'. Machine type with name '${type[2]!}' does not exist in zone '${zone}'.`);
  const disks = Array.isArray(body.disks) ? (body.disks as Json[]) : [];
  if (disks.length !== 1 || disks[0]!.boot !== true) throw violation('disks must hold exactly one boot disk');
  const params = (disks[0]!.initializeParams ?? {}) as Json;
  onlyKeys(params, ['sourceImage', 'diskSizeGb', 'diskType'], 'disks[0].initializeParams');
  const source = String(params.sourceImage);
  const img = /^(?:projects\/([^/]+)\/)?global\/images\/(family\/)?([^/]+)$/.exec(source);
  const project = img?.[1] ?? TEST_PROJECT;
  const candidates = (images.get(project) ?? []).filter((i) => (img?.[2] ? i.family === img[3] && !i.deprecated : i.name === img?.[3]));
  if (!img || candidates.length === 0) throw notFound(source.startsWith('projects/') ? source : `projects/${TEST_PROJECT}/${source}`);
  const nics = Array.isArray(body.networkInterfaces) ? (body.networkInterfaces as Json[]) : [];
  if (nics.length !== 1 || !/^global\/networks\/[a-z][-a-z0-9]*$/.test(String(nics[0]!.network))) throw violation('networkInterfaces must hold one interface on global/networks/<name>');
  onlyKeys(nics[0]!, ['network', 'subnetwork', 'accessConfigs'], 'networkInterfaces[0]');
  const labels = (body.labels ?? {}) as Json;
  if (Object.values(labels).some((v) => typeof v !== 'string')) throw violation('label values must be strings');
  const metadata = body.metadata as Json | undefined;
  if (metadata !== undefined) {
    onlyKeys(metadata, ['items'], 'metadata');
    if (!Array.isArray(metadata.items) || !(metadata.items as Json[]).every((i) => typeof i.key === 'string' && typeof i.value === 'string')) throw violation('metadata.items must be {key, value} strings');
  }
  const region = zone.slice(0, zone.lastIndexOf('-'));
  const id = `${randomInt(1e9, 1e10)}${randomInt(1e9, 1e10)}`;
  const natIP = `34.${randomInt(64, 127)}.${randomInt(0, 255)}.${randomInt(1, 254)}`;
  const nic: Json = {
    kind: 'compute#networkInterface',
    network: `${GCE_SELF}/${String(nics[0]!.network)}`,
    subnetwork: `${GCE_SELF}/regions/${region}/subnetworks/default`,
    networkIP: `10.128.${randomInt(1, 254)}.${randomInt(2, 254)}`,
    name: 'nic0',
    stackType: 'IPV4_ONLY',
    ...(Array.isArray(nics[0]!.accessConfigs) ? { accessConfigs: [{ kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', natIP, networkTier: 'PREMIUM' }] } : {}),
  };
  const now = new Date().toISOString();
  return {
    kind: 'compute#instance',
    id,
    creationTimestamp: now,
    name,
    tags: body.tags ?? { fingerprint: '42WmSpB8rSM=' },
    machineType: `${GCE_SELF}/zones/${zone}/machineTypes/${type[2]!}`,
    status: 'PROVISIONING',
    zone: `${GCE_SELF}/zones/${zone}`,
    canIpForward: false,
    networkInterfaces: [nic],
    disks: [{ kind: 'compute#attachedDisk', type: 'PERSISTENT', mode: 'READ_WRITE', source: `${GCE_SELF}/zones/${zone}/disks/${name}`, deviceName: 'persistent-disk-0', index: 0, boot: true, autoDelete: true, diskSizeGb: String(params.diskSizeGb ?? candidates[0]!.diskSizeGb ?? '10') }],
    metadata: { kind: 'compute#metadata', fingerprint: 'Vx8z5q0i3qE=', ...(metadata ? { items: metadata.items } : {}) },
    selfLink: `${GCE_SELF}/zones/${zone}/instances/${name}`,
    scheduling: { onHostMaintenance: 'MIGRATE', automaticRestart: true, preemptible: false, ...(body.scheduling as Json | undefined) },
    cpuPlatform: 'Unknown CPU Platform',
    ...(Object.keys(labels).length ? { labels } : {}),
    labelFingerprint: 'O3Xcak3FsEg=',
    fingerprint: 'tPq3q8pW7Qk=',
  };
}
