/**
 * Small stateful stand-ins on 127.0.0.1 for OpenStack Nova (compute v2.1) with Glance v2,
 * Octavia v2 and Rackspace Cloud Load Balancers v1.0, built on the replay server. Every request
 * must carry X-Auth-Token (a wrong token is answered 401 like keystonemiddleware does; a missing
 * one is also a test failure), JSON bodies are checked against the shapes the API references
 * give, and anything unexpected lands in `failures`. Seed data is read from fixtures/nova,
 * fixtures/octavia and fixtures/rackspace-clb; state transitions (BUILD -> ACTIVE,
 * PENDING_CREATE -> ACTIVE...) happen `transitionMs` after the call that starts them.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import ssh2 from 'ssh2';
import { REPO_ROOT, startReplayServer, type RecordedRoute, type ReplayRequest, type ReplayServer } from './replay-server.ts';

export const OPENSTACK_TEST_TOKEN = 'gAAAAABnTestTokenSkygraph-0penStack-5ecret-a1b2c3d4e5f6';

type Json = Record<string, unknown>;
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}
/** An upstream error the API would answer (not a test failure unless `violation`). */
class Fault extends Error {
  constructor(
    readonly status: number,
    readonly payload: unknown,
    readonly violation = false,
  ) {
    super(JSON.stringify(payload));
  }
}

/** Common shape of the three servers. */
export interface OpenStackTestServer {
  url: string;
  requests: ReplayRequest[];
  /** protocol violations, as readable lines */
  failures: string[];
  close(): Promise<void>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});
const empty = (status: number): Reply => ({ status, body: '' });
const fixture = <T>(path: string): T => JSON.parse(readFileSync(resolve(REPO_ROOT, 'fixtures', path), 'utf8')) as T;
const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function violation(message: string): Fault {
  return new Fault(400, { badRequest: { code: 400, message } }, true);
}
function requireBody(req: ReplayRequest): Json {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw violation('content-type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw violation('body is not JSON');
  }
  if (!isObj(parsed)) throw violation('body must be a JSON object');
  return parsed;
}
function onlyKeys(o: Json, allowed: readonly string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw violation(`${where}: additional properties are not allowed (${extra.join(', ')})`);
}

/** Wraps the replay server: token check, faults, violations recorded as failures. */
async function tokenServer(unauthorizedBody: unknown, token: string) {
  const replay: ReplayServer = await startReplayServer();
  const route = (method: string, path: string | RegExp, handle: (req: ReplayRequest, m: RegExpExecArray | null) => Reply) => {
    const r: RecordedRoute = {
      method,
      path,
      check(req) {
        if (!req.headers['x-auth-token']) throw new Error('no X-Auth-Token header');
      },
      body(req) {
        if (req.headers['x-auth-token'] !== token) return json(401, unauthorizedBody, { 'www-authenticate': 'Keystone uri="http://127.0.0.1/identity"' });
        try {
          return handle(req, typeof path === 'string' ? null : path.exec(req.path));
        } catch (err) {
          if (err instanceof Fault) {
            if (err.violation) replay.failures.push(`${req.method} ${req.path}: ${err.message}`);
            return json(err.status, err.payload);
          }
          throw err;
        }
      },
    };
    replay.route(r);
  };
  return { replay, route };
}

// ---------------------------------------------------------------------------------------------
// Nova + Glance

export interface NovaServerOptions {
  /** 'rackspace' expects no microversion and explicit networks, like Rackspace's Nova */
  variant?: 'openstack' | 'rackspace';
  /** the most items one page holds, whatever limit asks (Nova's max_limit; default 1000) */
  maxLimit?: number;
  /** how long BUILD, REBOOT, powering-off/on and deleting last (default 100 ms) */
  transitionMs?: number;
}

export interface NovaTestServer extends OpenStackTestServer {
  /** the compute endpoint (`.../compute/v2.1`) */
  computeUrl: string;
  /** the Glance endpoint (`.../image`) */
  imageUrl: string;
  /** the servers as stored, by id */
  servers: Map<string, Json>;
  /** POST /servers bodies received */
  created: Json[];
}

export const NOVA_NETWORK_ID = '9b607fb2-9fe7-41ac-836d-b473066931f7';
export const RACKSPACE_NETWORKS = ['00000000-0000-0000-0000-000000000000', '11111111-1111-1111-1111-111111111111'];
const SERVER_KEYS = [
  'name', 'imageRef', 'flavorRef', 'adminPass', 'metadata', 'networks', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6',
  'key_name', 'user_data', 'availability_zone', 'security_groups', 'config_drive', 'block_device_mapping_v2', 'min_count',
  'max_count', 'description', 'tags',
];

export async function startNovaServer(opts: NovaServerOptions = {}): Promise<NovaTestServer> {
  const variant = opts.variant ?? 'openstack';
  const maxLimit = opts.maxLimit ?? 1000;
  const transitionMs = opts.transitionMs ?? 100;
  const { replay, route } = await tokenServer(fixture('nova/unauthorized.json'), OPENSTACK_TEST_TOKEN);
  const base = `${replay.url}/compute/v2.1`;
  const servers = new Map<string, Json>(fixture<{ servers: Json[] }>('nova/servers.json').servers.map((s) => [s.id as string, s]));
  const flavors = fixture<{ flavors: Json[] }>('nova/flavors.json').flavors;
  const glanceImages = fixture<{ images: Json[] }>('nova/images-glance.json').images;
  const novaImages = fixture<{ images: Json[] }>('nova/images-nova.json').images;
  const zones = fixture<{ availabilityZoneInfo: Json[] }>('nova/availability-zones.json');
  const keypairs = new Map<string, Json>(
    fixture<{ keypairs: { keypair: Json }[] }>('nova/keypairs.json').keypairs.map(({ keypair }) => [
      keypair.name as string,
      { ...keypair, fingerprint: md5Fingerprint(keypair.public_key as string) },
    ]),
  );
  const timers: { at: number; run: () => void }[] = [];
  const created: Json[] = [];
  /** every server ever created, in listing order; `deleted` marks the soft-deleted ones */
  const everServer: Json[] = [...servers.values()];
  const deleted = new Set<Json>();
  const later = (run: () => void) => timers.push({ at: Date.now() + transitionMs, run });
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const notFound = (id: string) => new Fault(404, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
  const server = (id: string) => {
    settle();
    const s = servers.get(decodeURIComponent(id));
    if (!s) throw notFound(decodeURIComponent(id));
    return s;
  };
  const limitOf = (q: URLSearchParams) => {
    const raw = q.get('limit');
    if (raw !== null && !/^\d+$/.test(raw)) throw violation(`limit must be an integer, got ${raw}`);
    return Math.min(raw === null ? maxLimit : Number(raw), maxLimit);
  };
  // why: like Nova, a marker may name a server deleted since the previous page (it is soft-deleted upstream)
  const page = <T extends Json>(all: T[], q: URLSearchParams, path: string, visible: (x: T) => boolean = () => true): { items: T[]; next?: string } => {
    const limit = limitOf(q);
    const marker = q.get('marker');
    let start = 0;
    if (marker !== null) {
      const at = all.findIndex((x) => x.id === marker);
      if (at < 0) throw new Fault(400, { badRequest: { code: 400, message: `marker [${marker}] not found` } });
      start = at + 1;
    }
    const items = all.slice(start).filter(visible).slice(0, limit);
    // why: Nova links to a next page whenever a page is full, even when it will be empty
    return items.length === limit && limit > 0 ? { items, next: `${path}?limit=${limit}&marker=${String(items[items.length - 1]!.id)}` } : { items };
  };

  // https://docs.openstack.org/api-ref/compute/#list-servers-detailed
  route('GET', '/compute/v2.1/servers/detail', (req) => {
    settle();
    onlyKeys(Object.fromEntries(req.query), ['limit', 'marker'], 'servers/detail query');
    const { items, next } = page(everServer, req.query, `${base}/servers/detail`, (x) => !deleted.has(x));
    return json(200, { servers: items, ...(next ? { servers_links: [{ rel: 'next', href: next }] } : {}) });
  });
  route('GET', /^\/compute\/v2\.1\/servers\/([^/]+)$/, (_req, m) => json(200, { server: server(m![1]!) }));

  // https://docs.openstack.org/api-ref/compute/#create-server
  route('POST', '/compute/v2.1/servers', (req) => {
    settle();
    const body = requireBody(req);
    onlyKeys(body, ['server', 'os:scheduler_hints'], 'body');
    const s = body.server;
    if (!isObj(s)) throw violation('server must be an object');
    onlyKeys(s, SERVER_KEYS, 'server');
    created.push(clone(s));
    const micro = req.headers['x-openstack-nova-api-version'];
    if (variant === 'openstack' && micro !== '2.37') throw violation(`expected microversion 2.37 for networks, got ${micro ?? 'none'}`);
    if (variant === 'rackspace' && micro !== undefined) throw violation('Rackspace does not take microversions');
    if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > 255) throw violation('name must be 1 to 255 characters');
    const flavor = flavors.find((f) => f.id === s.flavorRef);
    if (!flavor) throw new Fault(400, { badRequest: { code: 400, message: `Flavor ${String(s.flavorRef)} could not be found.` } });
    const image = glanceImages.find((i) => i.id === s.imageRef);
    if (!image) throw new Fault(400, { badRequest: { code: 400, message: `Image ${String(s.imageRef)} could not be found.` } });
    if (s.key_name !== undefined && !keypairs.has(s.key_name as string)) throw new Fault(400, { badRequest: { code: 400, message: `Invalid key_name provided.` } });
    if (s.user_data !== undefined && (typeof s.user_data !== 'string' || Buffer.from(s.user_data, 'base64').toString('base64') !== s.user_data)) throw violation('user_data must be base64');
    if (s.availability_zone !== undefined && !zones.availabilityZoneInfo.some((z) => z.zoneName === s.availability_zone)) {
      throw new Fault(400, { badRequest: { code: 400, message: 'The requested availability zone is not available' } });
    }
    if (s.metadata !== undefined && (!isObj(s.metadata) || !Object.values(s.metadata).every((v) => typeof v === 'string'))) throw violation('metadata values must be strings');
    const nets = s.networks;
    if (variant === 'openstack') {
      if (nets === undefined) throw violation('networks is required from microversion 2.37');
      if (nets !== 'auto' && nets !== 'none' && !(Array.isArray(nets) && nets.every((n) => isObj(n) && n.uuid === NOVA_NETWORK_ID))) throw violation('networks must be auto, none or known [{uuid}]');
    } else if (!Array.isArray(nets) || !nets.every((n) => isObj(n) && typeof n.uuid === 'string' && RACKSPACE_NETWORKS.includes(n.uuid))) {
      throw violation('Rackspace servers need networks [{uuid}] (PublicNet/ServiceNet)');
    }
    const id = randomUUID();
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const record: Json = {
      id,
      name: s.name,
      status: 'BUILD',
      tenant_id: '6f70656e737461636b20342065766572',
      user_id: 'fake',
      metadata: s.metadata ?? {},
      hostId: '',
      image: { id: image.id, links: [] },
      flavor: { id: flavor.id, links: [] },
      created: now,
      updated: now,
      addresses: {},
      accessIPv4: '',
      accessIPv6: '',
      links: [{ rel: 'self', href: `${base}/servers/${id}` }],
      'OS-EXT-AZ:availability_zone': variant === 'rackspace' ? undefined : ((s.availability_zone as string | undefined) ?? 'nova'),
      key_name: s.key_name ?? null,
      'OS-EXT-STS:task_state': 'scheduling',
      'OS-EXT-STS:vm_state': 'building',
      'OS-EXT-STS:power_state': 0,
    };
    servers.set(id, record);
    everServer.push(record);
    later(() => {
      Object.assign(record, { status: 'ACTIVE', 'OS-EXT-STS:task_state': null, 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 });
      record.addresses = { private: [{ version: 4, addr: `10.0.0.${randomInt(20, 250)}`, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' }] };
    });
    return json(202, { server: { id, links: record.links, 'OS-DCF:diskConfig': 'MANUAL', adminPass: 'xk3TkUoWP5wD', security_groups: [{ name: 'default' }] } });
  });

  // https://docs.openstack.org/api-ref/compute/#delete-server
  route('DELETE', /^\/compute\/v2\.1\/servers\/([^/]+)$/, (_req, m) => {
    const s = server(m![1]!);
    s['OS-EXT-STS:task_state'] = 'deleting';
    later(() => {
      servers.delete(s.id as string);
      deleted.add(s);
    });
    return empty(204);
  });

  // https://docs.openstack.org/api-ref/compute/#servers-run-an-action-servers-action
  route('POST', /^\/compute\/v2\.1\/servers\/([^/]+)\/action$/, (req, m) => {
    const s = server(m![1]!);
    const body = requireBody(req);
    const [name, ...more] = Object.keys(body);
    if (!name || more.length) throw violation('an action body holds exactly one action');
    const conflict = (what: string) =>
      new Fault(409, { conflictingRequest: { code: 409, message: `Cannot '${what}' instance ${String(s.id)} while it is in vm_state ${String(s['OS-EXT-STS:vm_state'])}` } });
    const busy = s['OS-EXT-STS:task_state'] !== null && s['OS-EXT-STS:task_state'] !== undefined;
    if (name === 'reboot') {
      const r = body.reboot;
      if (!isObj(r) || (r.type !== 'SOFT' && r.type !== 'HARD')) throw violation('reboot.type must be SOFT or HARD');
      if (busy || !['ACTIVE', 'SHUTOFF'].includes(s.status as string)) throw conflict('reboot');
      Object.assign(s, { status: r.type === 'HARD' ? 'HARD_REBOOT' : 'REBOOT', 'OS-EXT-STS:task_state': r.type === 'HARD' ? 'reboot_started_hard' : 'reboot_started' });
      later(() => Object.assign(s, { status: 'ACTIVE', 'OS-EXT-STS:task_state': null, 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 }));
    } else if (name === 'os-stop' || name === 'os-start') {
      if (body[name] !== null) throw violation(`${name} takes null`);
      const stop = name === 'os-stop';
      if (busy || s.status !== (stop ? 'ACTIVE' : 'SHUTOFF')) throw conflict(stop ? 'stop' : 'start');
      s['OS-EXT-STS:task_state'] = stop ? 'powering-off' : 'powering-on';
      later(() =>
        Object.assign(s, stop
          ? { status: 'SHUTOFF', 'OS-EXT-STS:task_state': null, 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:power_state': 4 }
          : { status: 'ACTIVE', 'OS-EXT-STS:task_state': null, 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 }),
      );
    } else {
      throw violation(`unexpected action ${name}`);
    }
    return empty(202);
  });

  // https://docs.openstack.org/api-ref/compute/#list-flavors-with-details
  route('GET', '/compute/v2.1/flavors/detail', (req) => {
    const { items, next } = page(flavors, req.query, `${base}/flavors/detail`);
    return json(200, { flavors: items, ...(next ? { flavors_links: [{ rel: 'next', href: next }] } : {}) });
  });
  // https://docs.openstack.org/api-ref/compute/#list-images-with-details
  route('GET', '/compute/v2.1/images/detail', (req) => {
    const name = req.query.get('name');
    const { items, next } = page(novaImages.filter((i) => name === null || i.name === name), req.query, `${base}/images/detail`);
    return json(200, { images: items, ...(next ? { images_links: [{ rel: 'next', href: next }] } : {}) });
  });
  // https://docs.openstack.org/api-ref/compute/#get-availability-zone-information
  route('GET', '/compute/v2.1/os-availability-zone', () => json(200, zones));

  // https://docs.openstack.org/api-ref/compute/#keypairs-keypairs
  route('GET', '/compute/v2.1/os-keypairs', () => json(200, { keypairs: [...keypairs.values()].map((k) => ({ keypair: k })) }));
  route('GET', /^\/compute\/v2\.1\/os-keypairs\/([^/]+)$/, (_req, m) => {
    const k = keypairs.get(decodeURIComponent(m![1]!));
    if (!k) throw new Fault(404, { itemNotFound: { code: 404, message: `Keypair ${decodeURIComponent(m![1]!)} not found for user fake` } });
    return json(200, { keypair: { ...k, user_id: 'fake', id: 1, deleted: false, created_at: '2024-01-01T00:00:00.000000' } });
  });
  route('POST', '/compute/v2.1/os-keypairs', (req) => {
    const body = requireBody(req);
    onlyKeys(body, ['keypair'], 'body');
    const k = body.keypair;
    if (!isObj(k)) throw violation('keypair must be an object');
    onlyKeys(k, ['name', 'public_key', 'type'], 'keypair');
    if (typeof k.name !== 'string' || !/^[\w .@-]{1,255}$/.test(k.name)) throw violation('keypair.name is invalid');
    if (keypairs.has(k.name)) throw new Fault(409, { conflictingRequest: { code: 409, message: `Key pair '${k.name}' already exists.` } });
    let publicKey = k.public_key;
    let privateKey: string | undefined;
    if (publicKey === undefined) {
      const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: `Generated-by-Nova` });
      publicKey = pair.public;
      privateKey = pair.private;
    } else if (typeof publicKey !== 'string' || !/^(ssh-\S+|ecdsa-\S+) [A-Za-z0-9+/=]+/.test(publicKey)) {
      throw new Fault(400, { badRequest: { code: 400, message: 'Keypair data is invalid: failed to generate fingerprint' } });
    }
    const stored = { name: k.name, type: 'ssh', public_key: publicKey, fingerprint: md5Fingerprint(publicKey as string) };
    keypairs.set(k.name, stored);
    return json(200, { keypair: { ...stored, user_id: 'fake', ...(privateKey ? { private_key: privateKey } : {}) } });
  });
  route('DELETE', /^\/compute\/v2\.1\/os-keypairs\/([^/]+)$/, (_req, m) => {
    const name = decodeURIComponent(m![1]!);
    if (!keypairs.delete(name)) throw new Fault(404, { itemNotFound: { code: 404, message: `Keypair ${name} not found for user fake` } });
    return empty(202);
  });

  // https://docs.openstack.org/api-ref/image/v2/#list-images
  route('GET', '/image/v2/images', (req) => {
    onlyKeys(Object.fromEntries(req.query), ['limit', 'marker', 'id', 'name', 'owner', 'visibility', 'status'], 'images query');
    let all = glanceImages;
    const id = req.query.get('id');
    if (id !== null) {
      if (!id.startsWith('in:')) throw violation('id filter must use the in: operator');
      const wanted = new Set(id.slice(3).split(','));
      all = all.filter((i) => wanted.has(i.id as string));
    }
    for (const key of ['name', 'owner'] as const) {
      const v = req.query.get(key);
      if (v !== null) all = all.filter((i) => i[key] === v);
    }
    const { items, next } = page(all, req.query, '/v2/images');
    return json(200, { images: items, schema: '/v2/schemas/images', first: '/v2/images', ...(next ? { next } : {}) });
  });

  addIdentityRoutes(replay, [
    { type: 'compute', name: variant === 'rackspace' ? 'cloudServersOpenStack' : 'nova', url: base },
    ...(variant === 'rackspace' ? [] : [{ type: 'image', name: 'glance', url: `${replay.url}/image` }]),
  ]);

  return {
    url: replay.url,
    computeUrl: base,
    imageUrl: `${replay.url}/image`,
    requests: replay.requests,
    failures: replay.failures,
    servers,
    created,
    close: () => replay.close(),
  };
}

/** What the identity routes accept. */
export const KEYSTONE_TEST_USER = { username: 'demo', password: 'Demo-Passw0rd-not-a-real-one', project: 'demo', apiKey: 'rax0123456789abcdef0123456789abcd' };

/**
 * Keystone v3 password (`POST /identity/v3/auth/tokens`) and v2.0 RAX-KSKEY
 * (`POST /identity/v2.0/tokens`), answering OPENSTACK_TEST_TOKEN and a catalog of `services`
 * in RegionOne (v3) or DFW (v2.0).
 */
export function addIdentityRoutes(replay: ReplayServer, services: { type: string; name: string; url: string }[]): void {
  const unauthorized = json(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
  const expires = () => new Date(Date.now() + 3600_000).toISOString().replace('Z', '000Z');
  replay.route({
    method: 'POST',
    path: '/identity/v3/auth/tokens',
    body(req) {
      const auth = (JSON.parse(req.body.toString('utf8')) as { auth?: Json }).auth ?? {};
      const identity = auth.identity as { methods?: string[]; password?: { user?: Json } } | undefined;
      const user = identity?.password?.user;
      const scope = (auth.scope as { project?: Json } | undefined)?.project;
      const ok =
        identity?.methods?.[0] === 'password' && user?.name === KEYSTONE_TEST_USER.username && user.password === KEYSTONE_TEST_USER.password &&
        (user.domain as Json | undefined)?.name === 'Default' && scope?.name === KEYSTONE_TEST_USER.project;
      if (!ok) return unauthorized;
      const catalog = services.map((svc) => ({ type: svc.type, name: svc.name, id: randomUUID(), endpoints: [{ id: randomUUID(), interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: svc.url }] }));
      return json(201, { token: { methods: ['password'], expires_at: expires(), issued_at: new Date().toISOString(), project: { id: 'p1', name: 'demo' }, catalog } }, { 'x-subject-token': OPENSTACK_TEST_TOKEN });
    },
  });
  replay.route({
    method: 'POST',
    path: '/identity/v2.0/tokens',
    body(req) {
      const auth = (JSON.parse(req.body.toString('utf8')) as { auth?: Json }).auth ?? {};
      const key = auth['RAX-KSKEY:apiKeyCredentials'] as Json | undefined;
      if (key?.username !== KEYSTONE_TEST_USER.username || key.apiKey !== KEYSTONE_TEST_USER.apiKey) return unauthorized;
      const serviceCatalog = services.map((svc) => ({ type: svc.type, name: svc.name, endpoints: [{ region: 'DFW', tenantId: '123456', publicURL: svc.url }] }));
      return json(200, { access: { token: { id: OPENSTACK_TEST_TOKEN, expires: expires(), tenant: { id: '123456', name: '123456' } }, serviceCatalog, user: { id: '1', name: 'demo' } } });
    },
  });
}

/** Nova's fingerprint of an OpenSSH public key: MD5 of the key blob, colon-separated hex. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

// ---------------------------------------------------------------------------------------------
// Octavia v2

export const OCTAVIA_SUBNET_ID = '1fc55cbc-d23e-4114-aa84-5b4211f6fa79';
const OCTAVIA_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'UDP', 'TERMINATED_HTTPS', 'SCTP', 'PROMETHEUS'];
const OCTAVIA_ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP', 'SOURCE_IP_PORT'];

export interface OctaviaServerOptions {
  /** how long PENDING_CREATE / PENDING_UPDATE / PENDING_DELETE last (default 60 ms) */
  transitionMs?: number;
  /** the most items one page holds (default 1000) */
  maxLimit?: number;
}

export interface OctaviaTestServer extends OpenStackTestServer {
  /** POST bodies received, by collection ('loadbalancers', 'listeners', 'pools', 'members') */
  posted: { kind: string; body: Json }[];
  loadbalancers: Map<string, Json>;
}

export async function startOctaviaServer(opts: OctaviaServerOptions = {}): Promise<OctaviaTestServer> {
  const transitionMs = opts.transitionMs ?? 60;
  const maxLimit = opts.maxLimit ?? 1000;
  const { replay, route } = await tokenServer(fixture('octavia/unauthorized.json'), OPENSTACK_TEST_TOKEN);
  const seed = fixture<{ loadbalancers: Json[]; listeners: Json[]; pools: Json[]; members: Json[] }>('octavia/seed.json');
  const lbs = new Map<string, Json>(seed.loadbalancers.map((x) => [x.id as string, x]));
  const listeners = new Map<string, Json>(seed.listeners.map((x) => [x.id as string, x]));
  const pools = new Map<string, Json>(seed.pools.map((x) => [x.id as string, x]));
  const members = new Map<string, Json>(seed.members.map((x) => [x.id as string, x]));
  const posted: { kind: string; body: Json }[] = [];
  const timers: { at: number; run: () => void }[] = [];
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const fault = (status: number, faultstring: string, isViolation = false) => new Fault(status, { faultcode: status >= 500 ? 'Server' : 'Client', faultstring, debuginfo: null }, isViolation);
  const bad = (message: string) => fault(400, `Invalid input for field/attribute ${message}`, true);
  const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, '');
  const lbOf = (id: string) => {
    settle();
    const lb = lbs.get(id);
    if (!lb) throw fault(404, `Load Balancer ${id} not found.`);
    return lb;
  };
  /** why: Octavia refuses changes to a load balancer that is not ACTIVE; our driver must have waited */
  const mutate = (lb: Json, children: Json[] = []) => {
    if (lb.provisioning_status !== 'ACTIVE') throw fault(409, `Load Balancer ${String(lb.id)} is immutable and cannot be updated.`, true);
    lb.provisioning_status = 'PENDING_UPDATE';
    for (const c of children) c.provisioning_status = c.provisioning_status === 'PENDING_DELETE' ? 'PENDING_DELETE' : 'PENDING_UPDATE';
    timers.push({
      at: Date.now() + transitionMs,
      run: () => {
        lb.provisioning_status = 'ACTIVE';
        for (const c of children) {
          if (c.provisioning_status === 'PENDING_DELETE') members.delete(c.id as string);
          else c.provisioning_status = 'ACTIVE';
          c.operating_status = c.operating_status === 'OFFLINE' ? 'NO_MONITOR' : c.operating_status;
        }
      },
    });
  };
  const listOf = (all: Json[], req: ReplayRequest, key: string, allowedFilters: string[]) => {
    settle();
    onlyKeys(Object.fromEntries(req.query), ['limit', 'marker', ...allowedFilters], `${key} query`);
    let items = all;
    for (const f of allowedFilters) {
      const v = req.query.get(f);
      if (v !== null) items = items.filter((x) => (f === 'loadbalancer_id' ? (x.loadbalancers as Json[]).some((l) => l.id === v) : x[f] === v));
    }
    const limit = Math.min(Number(req.query.get('limit') ?? maxLimit), maxLimit);
    const marker = req.query.get('marker');
    const start = marker === null ? 0 : items.findIndex((x) => x.id === marker) + 1;
    const page = items.slice(start, start + limit);
    const more = start + limit < items.length;
    return json(200, { [key]: page, [`${key}_links`]: more ? [{ href: `${replay.url}${req.path}?limit=${limit}&marker=${String(page.at(-1)!.id)}`, rel: 'next' }] : [] });
  };
  const post = (req: ReplayRequest, kind: string, wrapper: string, allowed: string[]): Json => {
    const body = requireBody(req);
    onlyKeys(body, [wrapper], 'body');
    const inner = body[wrapper];
    if (!isObj(inner)) throw bad(`${wrapper}: must be an object`);
    onlyKeys(inner, allowed, wrapper);
    posted.push({ kind, body: clone(inner) });
    return inner;
  };

  // https://docs.openstack.org/api-ref/load-balancer/v2/#list-load-balancers
  route('GET', '/v2/lbaas/loadbalancers', (req) => listOf([...lbs.values()], req, 'loadbalancers', ['name']));
  route('GET', /^\/v2\/lbaas\/loadbalancers\/([^/]+)$/, (_req, m) => json(200, { loadbalancer: lbOf(decodeURIComponent(m![1]!)) }));
  // https://docs.openstack.org/api-ref/load-balancer/v2/#create-a-load-balancer
  route('POST', '/v2/lbaas/loadbalancers', (req) => {
    const b = post(req, 'loadbalancers', 'loadbalancer', ['name', 'description', 'vip_subnet_id', 'vip_network_id', 'vip_port_id', 'vip_address', 'admin_state_up', 'provider', 'flavor_id', 'availability_zone', 'tags']);
    if (b.vip_subnet_id !== OCTAVIA_SUBNET_ID) throw fault(400, `Validation failure: Subnet ${String(b.vip_subnet_id)} not found.`);
    const id = randomUUID();
    const lb: Json = {
      id, name: b.name ?? '', description: b.description ?? '', provisioning_status: 'PENDING_CREATE', operating_status: 'OFFLINE',
      admin_state_up: b.admin_state_up ?? true, project_id: 'e3cd678b11784734bc366148aa37580e', tenant_id: 'e3cd678b11784734bc366148aa37580e',
      created_at: stamp(), updated_at: null, vip_address: `203.0.113.${randomInt(10, 250)}`, vip_port_id: randomUUID(),
      vip_subnet_id: b.vip_subnet_id, vip_network_id: 'd0d217df-3958-4fbf-a3c2-8dad2908c709', listeners: [], pools: [], provider: 'amphora',
      flavor_id: null, availability_zone: null, tags: [],
    };
    lbs.set(id, lb);
    timers.push({ at: Date.now() + transitionMs, run: () => Object.assign(lb, { provisioning_status: 'ACTIVE', operating_status: 'ONLINE', updated_at: stamp() }) });
    return json(201, { loadbalancer: lb });
  });
  // https://docs.openstack.org/api-ref/load-balancer/v2/#remove-a-load-balancer
  route('DELETE', /^\/v2\/lbaas\/loadbalancers\/([^/]+)$/, (req, m) => {
    const lb = lbOf(decodeURIComponent(m![1]!));
    const cascade = req.query.get('cascade') === 'true';
    if (!cascade && ((lb.listeners as Json[]).length || (lb.pools as Json[]).length)) throw fault(400, 'Cannot delete Load Balancer - it has children', true);
    if (!['ACTIVE', 'ERROR'].includes(lb.provisioning_status as string)) throw fault(409, `Invalid state ${String(lb.provisioning_status)} of loadbalancer resource ${String(lb.id)}`, true);
    lb.provisioning_status = 'PENDING_DELETE';
    timers.push({
      at: Date.now() + transitionMs,
      run: () => {
        lbs.delete(lb.id as string);
        for (const l of [...listeners.values()]) if ((l.loadbalancers as Json[]).some((x) => x.id === lb.id)) listeners.delete(l.id as string);
        for (const p of [...pools.values()]) {
          if (!(p.loadbalancers as Json[]).some((x) => x.id === lb.id)) continue;
          pools.delete(p.id as string);
          for (const mem of [...members.values()]) if (mem.pool_id === p.id) members.delete(mem.id as string);
        }
      },
    });
    return empty(204);
  });

  // https://docs.openstack.org/api-ref/load-balancer/v2/#list-listeners
  route('GET', '/v2/lbaas/listeners', (req) => listOf([...listeners.values()], req, 'listeners', ['loadbalancer_id']));
  // https://docs.openstack.org/api-ref/load-balancer/v2/#create-listener
  route('POST', '/v2/lbaas/listeners', (req) => {
    const b = post(req, 'listeners', 'listener', ['name', 'description', 'protocol', 'protocol_port', 'loadbalancer_id', 'default_pool_id', 'admin_state_up', 'connection_limit', 'timeout_client_data', 'tags']);
    if (!OCTAVIA_PROTOCOLS.includes(b.protocol as string)) throw bad(`protocol. Value: '${String(b.protocol)}'. Value should be one of: ${OCTAVIA_PROTOCOLS.join(', ')}`);
    if (!Number.isInteger(b.protocol_port) || (b.protocol_port as number) < 1 || (b.protocol_port as number) > 65535) throw bad('protocol_port');
    const lb = lbOf(b.loadbalancer_id as string);
    mutate(lb);
    const id = randomUUID();
    const listener: Json = {
      id, name: b.name ?? '', description: '', protocol: b.protocol, protocol_port: b.protocol_port, loadbalancers: [{ id: lb.id }],
      default_pool_id: null, provisioning_status: 'PENDING_CREATE', operating_status: 'OFFLINE', admin_state_up: true, connection_limit: -1,
      created_at: stamp(), updated_at: null, project_id: lb.project_id,
    };
    listeners.set(id, listener);
    (lb.listeners as Json[]).push({ id });
    timers.push({ at: Date.now() + transitionMs, run: () => Object.assign(listener, { provisioning_status: 'ACTIVE', operating_status: 'ONLINE' }) });
    return json(201, { listener });
  });

  // https://docs.openstack.org/api-ref/load-balancer/v2/#list-pools
  route('GET', '/v2/lbaas/pools', (req) => listOf([...pools.values()], req, 'pools', ['loadbalancer_id']));
  // https://docs.openstack.org/api-ref/load-balancer/v2/#create-pool
  route('POST', '/v2/lbaas/pools', (req) => {
    const b = post(req, 'pools', 'pool', ['name', 'description', 'protocol', 'lb_algorithm', 'listener_id', 'loadbalancer_id', 'admin_state_up', 'session_persistence', 'tags']);
    if (!OCTAVIA_ALGORITHMS.includes(b.lb_algorithm as string)) throw bad(`lb_algorithm. Value: '${String(b.lb_algorithm)}'`);
    if (!['HTTP', 'HTTPS', 'TCP', 'UDP', 'PROXY', 'PROXYV2', 'SCTP'].includes(b.protocol as string)) throw bad('protocol');
    const listener = listeners.get(b.listener_id as string);
    if (!listener) throw fault(404, `Listener ${String(b.listener_id)} not found.`);
    if (listener.default_pool_id) throw fault(409, 'Listener already has a default pool', true);
    const lb = lbOf((listener.loadbalancers as Json[])[0]!.id as string);
    mutate(lb);
    const id = randomUUID();
    const pool: Json = {
      id, name: b.name ?? '', description: '', protocol: b.protocol, lb_algorithm: b.lb_algorithm, listeners: [{ id: listener.id }],
      loadbalancers: [{ id: lb.id }], members: [], healthmonitor_id: null, session_persistence: null, provisioning_status: 'PENDING_CREATE',
      operating_status: 'OFFLINE', admin_state_up: true, created_at: stamp(), updated_at: null, project_id: lb.project_id,
    };
    pools.set(id, pool);
    listener.default_pool_id = id;
    (lb.pools as Json[]).push({ id });
    timers.push({ at: Date.now() + transitionMs, run: () => Object.assign(pool, { provisioning_status: 'ACTIVE', operating_status: 'ONLINE' }) });
    return json(201, { pool });
  });

  const poolOf = (id: string) => {
    settle();
    const pool = pools.get(id);
    if (!pool) throw fault(404, `Pool ${id} not found.`);
    return pool;
  };
  // https://docs.openstack.org/api-ref/load-balancer/v2/#list-members
  route('GET', /^\/v2\/lbaas\/pools\/([^/]+)\/members$/, (req, m) => {
    const pool = poolOf(decodeURIComponent(m![1]!));
    return listOf([...members.values()].filter((x) => x.pool_id === pool.id), req, 'members', []);
  });
  // https://docs.openstack.org/api-ref/load-balancer/v2/#create-member
  route('POST', /^\/v2\/lbaas\/pools\/([^/]+)\/members$/, (req, m) => {
    const pool = poolOf(decodeURIComponent(m![1]!));
    const b = post(req, 'members', 'member', ['name', 'address', 'protocol_port', 'subnet_id', 'weight', 'admin_state_up', 'backup', 'monitor_address', 'monitor_port', 'tags']);
    if (typeof b.address !== 'string' || isIP(b.address) === 0) throw bad('address');
    if (!Number.isInteger(b.protocol_port)) throw bad('protocol_port');
    if (b.subnet_id !== undefined && b.subnet_id !== OCTAVIA_SUBNET_ID) throw fault(400, `Validation failure: Subnet ${String(b.subnet_id)} not found.`);
    if ([...members.values()].some((x) => x.pool_id === pool.id && x.address === b.address && x.protocol_port === b.protocol_port)) {
      throw fault(409, `Another member on this pool is already using ip ${b.address} on protocol_port ${String(b.protocol_port)}`);
    }
    const lb = lbOf((pool.loadbalancers as Json[])[0]!.id as string);
    const id = randomUUID();
    const member: Json = {
      id, name: b.name ?? '', address: b.address, protocol_port: b.protocol_port, subnet_id: b.subnet_id ?? null, weight: b.weight ?? 1,
      backup: false, admin_state_up: true, monitor_address: null, monitor_port: null, provisioning_status: 'PENDING_CREATE',
      operating_status: 'NO_MONITOR', pool_id: pool.id, project_id: lb.project_id, created_at: stamp(), updated_at: null,
    };
    mutate(lb, [member]);
    members.set(id, member);
    return json(201, { member });
  });
  // https://docs.openstack.org/api-ref/load-balancer/v2/#remove-a-member
  route('DELETE', /^\/v2\/lbaas\/pools\/([^/]+)\/members\/([^/]+)$/, (_req, m) => {
    const pool = poolOf(decodeURIComponent(m![1]!));
    const member = members.get(decodeURIComponent(m![2]!));
    if (!member || member.pool_id !== pool.id) throw fault(404, `Member ${decodeURIComponent(m![2]!)} not found.`);
    member.provisioning_status = 'PENDING_DELETE';
    mutate(lbOf((pool.loadbalancers as Json[])[0]!.id as string), [member]);
    return empty(204);
  });

  return { url: replay.url, requests: replay.requests, failures: replay.failures, posted, loadbalancers: lbs, close: () => replay.close() };
}

// ---------------------------------------------------------------------------------------------
// Rackspace Cloud Load Balancers v1.0

export const CLB_TENANT = '123456';
const CLB_BALANCER_KEYS = ['name', 'port', 'protocol', 'algorithm', 'virtualIps', 'nodes', 'halfClosed', 'timeout', 'connectionLogging', 'accessList', 'healthMonitor', 'metadata', 'sessionPersistence', 'connectionThrottle', 'httpsRedirect', 'contentCaching'];

export interface ClbServerOptions {
  /** how long BUILD / PENDING_UPDATE / PENDING_DELETE last (default 60 ms) */
  transitionMs?: number;
  /** the most balancers one page holds (default 100) */
  maxLimit?: number;
}

export interface ClbTestServer extends OpenStackTestServer {
  /** `.../v1.0/123456` */
  endpoint: string;
  /** POST/PUT bodies received */
  posted: { path: string; body: Json }[];
  balancers: Map<number, Json>;
}

export async function startClbServer(opts: ClbServerOptions = {}): Promise<ClbTestServer> {
  const transitionMs = opts.transitionMs ?? 60;
  const maxLimit = opts.maxLimit ?? 100;
  const { replay, route } = await tokenServer(fixture('rackspace-clb/unauthorized.json'), OPENSTACK_TEST_TOKEN);
  const prefix = `/v1.0/${CLB_TENANT}/loadbalancers`;
  const protocols = fixture<{ protocols: Json[] }>('rackspace-clb/protocols.json');
  const algorithms = fixture<{ algorithms: Json[] }>('rackspace-clb/algorithms.json');
  const balancers = new Map<number, Json>(fixture<{ loadBalancers: Json[] }>('rackspace-clb/loadbalancers.json').loadBalancers.map((b) => [b.id as number, b]));
  const posted: { path: string; body: Json }[] = [];
  let nextLb = 72000;
  let nextNode = 420000;
  let nextVip = 4000;
  const timers: { at: number; run: () => void }[] = [];
  const settle = () => {
    const now = Date.now();
    for (let i = 0; i < timers.length; ) {
      if (timers[i]!.at <= now) timers.splice(i, 1)[0]!.run();
      else i++;
    }
  };
  const fault = (code: number, message: string, isViolation = false) => new Fault(code, { message, code }, isViolation);
  const validation = (message: string) => new Fault(400, { validationErrors: { messages: [message] }, message: 'Validation Failure', code: 400 }, true);
  const stamp = () => ({ time: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
  const lbOf = (raw: string) => {
    settle();
    const lb = /^\d+$/.test(raw) ? balancers.get(Number(raw)) : undefined;
    if (!lb) throw fault(404, 'Load balancer not found.');
    return lb;
  };
  /** why: CLB refuses changes unless ACTIVE; the driver must have waited */
  const mutate = (lb: Json, next = 'PENDING_UPDATE', then: () => void = () => (lb.status = 'ACTIVE')) => {
    if (lb.status !== 'ACTIVE') throw fault(422, `Load Balancer '${String(lb.id)}' has a status of '${String(lb.status)}' and is considered immutable.`, true);
    lb.status = next;
    lb.updated = stamp();
    timers.push({ at: Date.now() + transitionMs, run: then });
  };
  const body = (req: ReplayRequest) => {
    const b = requireBody(req);
    posted.push({ path: req.path, body: clone(b) });
    return b;
  };
  const checkNodes = (nodes: unknown): Json[] => {
    if (!Array.isArray(nodes) || nodes.length === 0) throw validation('Must provide at least one node');
    return nodes.map((n) => {
      if (!isObj(n)) throw validation('node must be an object');
      onlyKeys(n, ['address', 'port', 'condition', 'type', 'weight'], 'node');
      if (typeof n.address !== 'string' || isIP(n.address) === 0) throw validation('node address must be an IP address');
      if (!Number.isInteger(n.port) || (n.port as number) < 1 || (n.port as number) > 65535) throw validation('node port must be 1 to 65535');
      if (!['ENABLED', 'DISABLED', 'DRAINING'].includes(n.condition as string)) throw validation('node condition must be ENABLED, DISABLED or DRAINING');
      if (n.type !== undefined && !['PRIMARY', 'SECONDARY'].includes(n.type as string)) throw validation('node type must be PRIMARY or SECONDARY');
      return { id: nextNode++, address: n.address, port: n.port, condition: n.condition, status: 'ONLINE', weight: n.weight ?? 1, type: n.type ?? 'PRIMARY' };
    });
  };
  const checkBalancer = (b: Json, creating: boolean) => {
    onlyKeys(b, creating ? CLB_BALANCER_KEYS : ['name', 'port', 'protocol', 'algorithm', 'halfClosed', 'timeout', 'httpsRedirect'], 'loadBalancer');
    if (b.name !== undefined && (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 128)) throw validation('Load balancer name must be 1 to 128 characters');
    if (b.protocol !== undefined && !protocols.protocols.some((p) => p.name === b.protocol)) throw validation(`Protocol ${String(b.protocol)} is not supported`);
    if (b.algorithm !== undefined && !algorithms.algorithms.some((a) => a.name === b.algorithm)) throw validation(`Algorithm ${String(b.algorithm)} is not supported`);
    if (b.port !== undefined && (!Number.isInteger(b.port) || (b.port as number) < 1 || (b.port as number) > 65535)) throw validation('Port must be 1 to 65535');
    if (creating) {
      if (typeof b.name !== 'string' || typeof b.protocol !== 'string') throw validation('Must provide a name and a protocol');
      const vips = b.virtualIps;
      if (!Array.isArray(vips) || vips.length === 0 || !vips.every((v) => isObj(v) && (v.type === 'PUBLIC' || v.type === 'SERVICENET' || typeof v.id === 'number'))) {
        throw validation('Must provide virtualIps: [{type: PUBLIC|SERVICENET}] or [{id}]');
      }
    }
  };

  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/protocols
  route('GET', `${prefix}/protocols`, () => json(200, protocols));
  route('GET', `${prefix}/algorithms`, () => json(200, algorithms));
  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#list-load-balancers
  route('GET', prefix, (req) => {
    settle();
    onlyKeys(Object.fromEntries(req.query), ['limit', 'marker', 'status', 'nodeaddress'], 'loadbalancers query');
    const all = [...balancers.values()].filter((b) => b.status !== 'DELETED').map(({ nodes, ...rest }): Json => ({ ...rest, nodeCount: (nodes as Json[]).length }));
    const limit = Math.min(Number(req.query.get('limit') ?? maxLimit), maxLimit);
    const marker = req.query.get('marker');
    const start = marker === null ? 0 : all.findIndex((b) => String(b.id) === marker) + 1;
    const page = all.slice(start, start + limit);
    const links = start + limit < all.length ? [{ href: `${replay.url}${prefix}?limit=${limit}&marker=${String(page.at(-1)!.id)}`, rel: 'next' }] : [];
    return json(200, { loadBalancers: page, links });
  });
  route('GET', new RegExp(`^${prefix}/(\\d+)$`), (_req, m) => json(200, { loadBalancer: lbOf(m![1]!) }));
  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#create-load-balancer
  route('POST', prefix, (req) => {
    const b = body(req);
    onlyKeys(b, ['loadBalancer'], 'body');
    const spec = b.loadBalancer;
    if (!isObj(spec)) throw validation('loadBalancer must be an object');
    checkBalancer(spec, true);
    const nodes = spec.nodes === undefined ? [] : checkNodes(spec.nodes);
    const id = nextLb++;
    const vipType = (spec.virtualIps as Json[])[0]!.type;
    const lb: Json = {
      id, name: spec.name, protocol: spec.protocol, port: spec.port ?? 80, algorithm: spec.algorithm ?? 'RANDOM', status: 'BUILD', timeout: 30,
      halfClosed: false, cluster: { name: 'ztm-n13.dfw1.lbaas.rackspace.net' }, connectionLogging: { enabled: false },
      virtualIps: vipType === 'SERVICENET'
        ? [{ id: nextVip++, address: `10.183.252.${randomInt(2, 250)}`, type: 'SERVICENET', ipVersion: 'IPV4' }]
        : [{ id: nextVip++, address: `198.51.100.${randomInt(100, 250)}`, type: 'PUBLIC', ipVersion: 'IPV4' }, { id: nextVip++, address: '2001:4800:7901::aa', type: 'PUBLIC', ipVersion: 'IPV6' }],
      nodes, created: stamp(), updated: stamp(),
    };
    balancers.set(id, lb);
    timers.push({ at: Date.now() + transitionMs, run: () => (lb.status = 'ACTIVE') });
    return json(202, { loadBalancer: lb });
  });
  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#update-load-balancer-attributes
  route('PUT', new RegExp(`^${prefix}/(\\d+)$`), (req, m) => {
    const lb = lbOf(m![1]!);
    const b = body(req);
    onlyKeys(b, ['loadBalancer'], 'body');
    if (!isObj(b.loadBalancer)) throw validation('loadBalancer must be an object');
    checkBalancer(b.loadBalancer, false);
    mutate(lb);
    Object.assign(lb, b.loadBalancer);
    return empty(202);
  });
  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#remove-load-balancer
  route('DELETE', new RegExp(`^${prefix}/(\\d+)$`), (_req, m) => {
    const lb = lbOf(m![1]!);
    if (lb.status === 'ERROR' || lb.status === 'SUSPENDED') lb.status = 'ACTIVE';
    mutate(lb, 'PENDING_DELETE', () => (lb.status = 'DELETED'));
    return empty(202);
  });

  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/nodes
  route('GET', new RegExp(`^${prefix}/(\\d+)/nodes$`), (_req, m) => json(200, { nodes: lbOf(m![1]!).nodes }));
  route('POST', new RegExp(`^${prefix}/(\\d+)/nodes$`), (req, m) => {
    const lb = lbOf(m![1]!);
    const b = body(req);
    onlyKeys(b, ['nodes'], 'body');
    const added = checkNodes(b.nodes);
    const existing = lb.nodes as Json[];
    if (added.some((n) => existing.some((e) => e.address === n.address && e.port === n.port))) throw fault(422, 'Duplicate nodes detected. One or more nodes already configured on load balancer.');
    mutate(lb);
    existing.push(...added);
    return json(202, { nodes: added });
  });
  route('DELETE', new RegExp(`^${prefix}/(\\d+)/nodes/(\\d+)$`), (_req, m) => {
    const lb = lbOf(m![1]!);
    const nodes = lb.nodes as Json[];
    const at = nodes.findIndex((n) => String(n.id) === m![2]);
    if (at < 0) throw fault(404, 'Node not found');
    mutate(lb);
    nodes.splice(at, 1);
    return empty(202);
  });

  return { url: replay.url, endpoint: `${replay.url}/v1.0/${CLB_TENANT}`, requests: replay.requests, failures: replay.failures, posted, balancers, close: () => replay.close() };
}
