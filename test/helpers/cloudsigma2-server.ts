/**
 * A stateful stand-in for CloudSigma API 2.0 on 127.0.0.1, seeded from fixtures/cloudsigma2.
 * It checks what the reference asks of a client: HTTP Basic on every call, the trailing slash of
 * every URL, `limit=0` on listings that would otherwise stop at 20, JSON bodies with
 * `Content-Type: application/json` and the documented fields, and server/drive states (a server
 * starts only when stopped and its drives are ready, is deleted only when stopped; a drive is
 * resized or deleted only when unmounted). Cloning, starting and stopping take `transitionMs`.
 *
 * https://cloudsigma-docs.readthedocs.io/en/latest/
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Fault, startBasicAuthServer, transitions, type Reply } from './basic-auth-server.ts';
import { REPO_ROOT, type ReplayRequest } from './replay-server.ts';

export const CS2_USERNAME = 'ops@example.com';
export const CS2_PASSWORD = 'Cs2-fixture-Passw0rd-7f3a91c2';

type Json = Record<string, unknown>;

export interface Cs2ServerOptions {
  /** how long cloning, resizing, starting and stopping last (default 60 ms) */
  transitionMs?: number;
  /** a 401 body that repeats the credentials it was sent (as a careless upstream might) */
  echoCredentials?: boolean;
  /** answer every start with this CloudSigma error instead */
  failStart?: { status: number; type: string; message: string };
}

export interface Cs2TestServer {
  /** the API base URL (`.../api/2.0/`) */
  endpoint: string;
  requests: ReplayRequest[];
  failures: string[];
  servers: Map<string, Json>;
  drives: Map<string, Json>;
  tags: Map<string, Json>;
  keypairs: Map<string, Json>;
  /** bodies of POST /servers/ */
  created: Json[];
  /** requests per `METHOD path-template` */
  count(method: string, pathEnd: string): number;
  close(): Promise<void>;
}

const BASE = '/api/2.0';
const UUID = '([0-9a-f-]{36})';
const SERVER_FIELDS = ['name', 'cpu', 'mem', 'smp', 'vnc_password', 'drives', 'nics', 'tags', 'pubkeys', 'meta', 'context'];
const fixture = (name: string): Json => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures/cloudsigma2', name), 'utf8')) as Json;
const json = (status: number, body: unknown): Reply => ({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: body === undefined ? '' : JSON.stringify(body) });
const apiError = (status: number, type: string, message: string, point: string | null = null) => new Fault(status, json(status, [{ error_point: point, error_type: type, error_message: message }]));
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const ref = (kind: string, uuid: string) => ({ resource_uri: `${BASE}/${kind}/${uuid}/`, uuid });

export async function startCs2Server(opts: Cs2ServerOptions = {}): Promise<Cs2TestServer> {
  const { replay, route, violation } = await startBasicAuthServer({
    username: CS2_USERNAME,
    password: CS2_PASSWORD,
    unauthorized: (sent) =>
      json(401, [{ error_point: null, error_type: 'permission', error_message: opts.echoCredentials ? `Invalid credentials for ${sent.username}:${sent.password}` : 'Authentication credentials were not provided or are wrong.' }]),
    violationReply: (message) => json(400, [{ error_point: null, error_type: 'validation', error_message: message }]),
  });
  const clock = transitions(opts.transitionMs ?? 60);
  const servers = new Map<string, Json>((fixture('servers-detail.json').objects as Json[]).map((s) => [s.uuid as string, s]));
  const drives = new Map<string, Json>((fixture('drives-detail.json').objects as Json[]).map((d) => [d.uuid as string, d]));
  const libdrives = new Map<string, Json>((fixture('libdrives.json').objects as Json[]).map((d) => [d.uuid as string, d]));
  const tags = new Map<string, Json>((fixture('tags.json').objects as Json[]).map((t) => [t.uuid as string, t]));
  const keypairs = new Map<string, Json>((fixture('keypairs.json').objects as Json[]).map((k) => [k.uuid as string, k]));
  const pricing = fixture('pricing.json');
  const created: Json[] = [];
  let nextIp = 100;

  const list = (items: Json[]) => json(200, { meta: { limit: 0, offset: 0, total_count: items.length }, objects: items });
  const requireAll = (req: ReplayRequest) => {
    if (req.query.get('limit') !== '0') throw violation(`${req.path} lists 20 objects unless limit=0; the client must ask for all`);
  };
  const body = (req: ReplayRequest): Json => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('Content-Type must be application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw violation('body is not JSON');
    }
    if (!isObj(parsed)) throw violation('body must be a JSON object');
    return parsed;
  };
  const objectsOf = (req: ReplayRequest): Json[] => {
    const b = body(req);
    if (!Array.isArray(b.objects) || b.objects.length === 0 || !b.objects.every(isObj)) throw violation('body must be {"objects": [ ... ]}');
    return b.objects as Json[];
  };
  const get = <T>(map: Map<string, T>, uuid: string, what: string): T => {
    clock.settle();
    const found = map.get(uuid);
    if (!found) throw apiError(404, 'notexist', `${what} ${uuid} does not exist`);
    return found;
  };
  const serverView = (s: Json): Json => ({ ...s, tags: (s.tags as string[]).map((t) => ref('tags', t)), pubkeys: (s.pubkeys as string[]).map((k) => ref('keypairs', k)) });

  // Seeded servers keep references as objects; the store keeps uuids
  for (const s of servers.values()) {
    s.tags = (s.tags as Json[]).map((t) => t.uuid as string);
    s.pubkeys = ((s.pubkeys as Json[] | undefined) ?? []).map((k) => k.uuid as string);
  }

  route('GET', `${BASE}/servers/detail/`, (req) => {
    requireAll(req);
    clock.settle();
    return list([...servers.values()].map(serverView));
  });
  route('GET', new RegExp(`^${BASE}/servers/${UUID}/$`), (_req, m) => json(200, serverView(get(servers, m![1]!, 'Server'))));

  route('POST', `${BASE}/servers/`, (req) => {
    const defs = objectsOf(req);
    const made = defs.map((def) => {
      const extra = Object.keys(def).filter((k) => !SERVER_FIELDS.includes(k));
      if (extra.length) throw violation(`unknown server fields: ${extra.join(', ')}`);
      if (typeof def.name !== 'string' || def.name === '') throw violation('name is required');
      if (!Number.isInteger(def.cpu) || (def.cpu as number) < 250 || (def.cpu as number) > 80000) throw violation('cpu must be an integer from 250 to 80000 (MHz)');
      if (!Number.isInteger(def.mem) || (def.mem as number) < 268435456) throw violation('mem must be an integer of bytes, at least 256 MiB');
      if (def.smp !== undefined && (!Number.isInteger(def.smp) || (def.cpu as number) / (def.smp as number) > 2200)) throw violation('smp must be an integer; at most 2200 MHz per core');
      if (typeof def.vnc_password !== 'string' || def.vnc_password.length < 8) throw violation('vnc_password is required');
      const attached = (Array.isArray(def.drives) ? def.drives : []) as Json[];
      for (const d of attached) {
        if (!['ide', 'virtio'].includes(d.device as string) || typeof d.dev_channel !== 'string' || !/^\d:\d$/.test(d.dev_channel)) throw violation('drives need device ide|virtio and dev_channel c:u');
        const drive = get(drives, String(d.drive), 'Drive');
        if (drive.status !== 'unmounted') throw apiError(400, 'validation', `Drive ${String(d.drive)} is ${String(drive.status)}`, 'drives');
      }
      for (const n of (Array.isArray(def.nics) ? def.nics : []) as Json[]) {
        const conf = n.ip_v4_conf as Json | undefined;
        if (!isObj(conf) || !['dhcp', 'static', 'manual'].includes(conf.conf as string) || !['virtio', 'e1000'].includes(n.model as string)) throw violation('nics need ip_v4_conf.conf and a model');
      }
      const tagIds = (def.tags ?? []) as unknown[];
      if (!Array.isArray(tagIds) || !tagIds.every((t) => typeof t === 'string' && tags.has(t))) throw violation('tags must be uuids of existing tags');
      const keyIds = (def.pubkeys ?? []) as unknown[];
      if (!Array.isArray(keyIds) || !keyIds.every((k) => typeof k === 'string' && keypairs.has(k))) throw violation('pubkeys must be uuids of existing key pairs');
      if (def.meta !== undefined && (!isObj(def.meta) || !Object.values(def.meta).every((v) => typeof v === 'string'))) throw violation('meta must map strings to strings');
      const uuid = randomUUID();
      const server: Json = {
        context: true,
        cpu: def.cpu,
        cpus_instead_of_cores: false,
        drives: attached.map((d) => ({ boot_order: d.boot_order ?? null, dev_channel: d.dev_channel, device: d.device, drive: ref('drives', String(d.drive)) })),
        enable_numa: false,
        mem: def.mem,
        meta: def.meta ?? {},
        name: def.name,
        nics: ((def.nics ?? []) as Json[]).map((n, i) => ({ ...n, mac: `22:8c:4f:2b:00:${String(i).padStart(2, '0')}`, runtime: null, vlan: null })),
        owner: ref('user', '7d1c2a40-55e3-4b8e-a1f0-3c9e6d2b8a10'),
        pubkeys: keyIds,
        resource_uri: `${BASE}/servers/${uuid}/`,
        runtime: null,
        smp: def.smp ?? 1,
        status: 'stopped',
        tags: tagIds,
        uuid,
        vnc_password: def.vnc_password,
      };
      for (const d of attached) (drives.get(String(d.drive))!.mounted_on as Json[]).push(ref('servers', uuid));
      servers.set(uuid, server);
      created.push(def);
      return serverView(server);
    });
    return json(201, { objects: made });
  });

  route('POST', new RegExp(`^${BASE}/servers/${UUID}/action/$`), (req, m) => {
    const server = get(servers, m![1]!, 'Server');
    const what = req.query.get('do');
    const state = server.status as string;
    if (what === 'start') {
      if (opts.failStart) throw apiError(opts.failStart.status, opts.failStart.type, opts.failStart.message);
      if (state !== 'stopped') throw apiError(403, 'permission', `Cannot start guest in state "${state === 'running' ? 'started' : state}". Guest should be in state "stopped"`);
      for (const d of server.drives as Json[]) {
        const drive = drives.get((d.drive as Json).uuid as string);
        if (drive && drive.status !== 'unmounted' && drive.status !== 'mounted') throw apiError(403, 'permission', `Cannot start guest: drive is in state "${String(drive.status)}"`);
      }
      server.status = 'starting';
      clock.later(() => {
        server.status = 'running';
        const ip = `185.12.6.${nextIp++}`;
        server.runtime = { active_since: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'), nics: [{ interface_type: 'public', ip_v4: ref('ips', ip), ip_v6: null, mac: '22:8c:4f:2b:00:00' }] };
        for (const d of server.drives as Json[]) {
          const drive = drives.get((d.drive as Json).uuid as string);
          if (drive) drive.status = 'mounted';
        }
      });
    } else if (what === 'stop' || what === 'shutdown') {
      if (state !== 'running') throw apiError(403, 'permission', `Cannot ${what} guest in state "${state}". Guest should be in state "running"`);
      server.status = 'stopping';
      clock.later(() => {
        server.status = 'stopped';
        server.runtime = null;
        for (const d of server.drives as Json[]) {
          const drive = drives.get((d.drive as Json).uuid as string);
          if (drive) drive.status = 'unmounted';
        }
      });
    } else {
      throw violation(`unknown server action ${String(what)}`);
    }
    if (req.body.length > 0) throw violation('server actions take no body');
    return json(202, { action: what, result: 'success', uuid: server.uuid });
  });

  route('DELETE', new RegExp(`^${BASE}/servers/${UUID}/$`), (req, m) => {
    const server = get(servers, m![1]!, 'Server');
    if (server.status !== 'stopped') throw apiError(403, 'permission', `Cannot delete guest in state "${String(server.status)}". Guest should be in state "stopped"`);
    const recurse = req.query.get('recurse');
    if (recurse !== null && !['all_drives', 'disks', 'cdroms'].includes(recurse)) throw violation(`unknown recurse option ${recurse}`);
    servers.delete(server.uuid as string);
    for (const d of server.drives as Json[]) {
      const drive = drives.get((d.drive as Json).uuid as string);
      if (!drive) continue;
      drive.mounted_on = (drive.mounted_on as Json[]).filter((x) => x.uuid !== server.uuid);
      if (recurse === 'all_drives' || (recurse === 'disks' && drive.media === 'disk') || (recurse === 'cdroms' && drive.media === 'cdrom')) drives.delete(drive.uuid as string);
    }
    for (const t of tags.values()) t.resources = (t.resources as Json[]).filter((r) => r.uuid !== server.uuid);
    return { status: 204, body: '' };
  });

  route('GET', `${BASE}/libdrives/`, (req) => {
    requireAll(req);
    return list([...libdrives.values()]);
  });
  route('POST', new RegExp(`^${BASE}/libdrives/${UUID}/action/$`), (req, m) => {
    const source = get(libdrives, m![1]!, 'Library drive');
    if (req.query.get('do') !== 'clone') throw violation('library drives only clone');
    if (source.media === 'cdrom') throw apiError(400, 'validation', 'CD-ROM library drives are attached, not cloned');
    const def = body(req);
    const extra = Object.keys(def).filter((k) => !['name', 'media', 'affinities'].includes(k));
    if (extra.length) throw violation(`unknown clone fields: ${extra.join(', ')}`);
    const uuid = randomUUID();
    const drive: Json = {
      affinities: [],
      allow_multimount: false,
      jobs: [],
      licenses: [],
      media: def.media ?? source.media,
      meta: {},
      mounted_on: [],
      name: typeof def.name === 'string' ? def.name : `${String(source.name)} clone`,
      owner: ref('user', '7d1c2a40-55e3-4b8e-a1f0-3c9e6d2b8a10'),
      resource_uri: `${BASE}/drives/${uuid}/`,
      size: source.size,
      status: 'cloning_dst',
      storage_type: 'dssd',
      tags: [],
      uuid,
    };
    drives.set(uuid, drive);
    clock.later(() => {
      if (drive.status === 'cloning_dst') drive.status = 'unmounted';
    });
    return json(202, { objects: [drive] });
  });

  route('GET', new RegExp(`^${BASE}/drives/${UUID}/$`), (_req, m) => json(200, get(drives, m![1]!, 'Drive')));
  route('POST', new RegExp(`^${BASE}/drives/${UUID}/action/$`), (req, m) => {
    const drive = get(drives, m![1]!, 'Drive');
    if (req.query.get('do') !== 'resize') throw violation(`unsupported drive action ${String(req.query.get('do'))}`);
    const def = body(req);
    if (!Number.isInteger(def.size) || typeof def.name !== 'string' || typeof def.media !== 'string') throw violation('resize needs the drive definition: name, media, size');
    if (drive.status !== 'unmounted') throw apiError(403, 'permission', `Cannot resize drive in state "${String(drive.status)}"`);
    if ((def.size as number) < (drive.size as number)) throw apiError(400, 'validation', 'Drives can only grow', 'size');
    drive.status = 'resizing';
    clock.later(() => {
      drive.size = def.size;
      drive.status = 'unmounted';
    });
    return json(202, { objects: [drive] });
  });
  route('DELETE', new RegExp(`^${BASE}/drives/${UUID}/$`), (_req, m) => {
    const drive = get(drives, m![1]!, 'Drive');
    if ((drive.mounted_on as Json[]).length > 0) throw apiError(403, 'permission', 'Cannot delete a drive that is attached to a server');
    drives.delete(drive.uuid as string);
    return { status: 204, body: '' };
  });

  route('GET', `${BASE}/tags/`, (req) => {
    requireAll(req);
    return list([...tags.values()]);
  });
  route('POST', `${BASE}/tags/`, (req) => {
    const made = objectsOf(req).map((def) => {
      if (typeof def.name !== 'string' || def.name === '') throw violation('tag name is required');
      const uuid = randomUUID();
      const tag: Json = { meta: {}, name: def.name, owner: ref('user', '7d1c2a40-55e3-4b8e-a1f0-3c9e6d2b8a10'), resource_uri: `${BASE}/tags/${uuid}/`, resources: [], uuid };
      tags.set(uuid, tag);
      return tag;
    });
    return json(201, { objects: made });
  });

  route('GET', `${BASE}/keypairs/`, (req) => {
    requireAll(req);
    return list([...keypairs.values()]);
  });
  route('POST', `${BASE}/keypairs/`, (req) => {
    const made = objectsOf(req).map((def) => {
      if (typeof def.name !== 'string' || typeof def.public_key !== 'string') throw violation('a key pair needs name and public_key');
      if (!/^(ssh-\S+|ecdsa-\S+) [A-Za-z0-9+/=]+/.test(def.public_key)) throw apiError(400, 'validation', 'Invalid public key', 'public_key');
      const uuid = randomUUID();
      const key: Json = { fingerprint: fingerprint(def.public_key), grantees: [], meta: {}, name: def.name, permissions: [], private_key: null, public_key: def.public_key, resource_uri: `${BASE}/keypairs/${uuid}/`, tags: [], uuid };
      keypairs.set(uuid, key);
      return key;
    });
    return json(201, { objects: made });
  });
  route('DELETE', new RegExp(`^${BASE}/keypairs/${UUID}/$`), (_req, m) => {
    keypairs.delete(get(keypairs, m![1]!, 'Keypair').uuid as string);
    return { status: 204, body: '' };
  });

  route('GET', `${BASE}/pricing/`, (req) => {
    requireAll(req);
    return json(200, pricing);
  });

  // Anything else under the API, including a URL without its trailing slash, is a violation
  for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
    route(method, /^\/api\/2\.0\/.*$/, (req) => {
      throw violation(req.path.endsWith('/') ? `no such endpoint ${req.method} ${req.path}` : `${req.path} must end with "/"`);
    });
  }

  return {
    endpoint: `${replay.url}${BASE}/`,
    requests: replay.requests,
    failures: replay.failures,
    servers,
    drives,
    tags,
    keypairs,
    created,
    count: (method, pathEnd) => replay.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd)).length,
    close: () => replay.close(),
  };
}

// --- Internal helpers ---

function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}
