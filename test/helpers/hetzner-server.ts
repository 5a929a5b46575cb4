/**
 * A stateful stand-in for Hetzner Cloud API v1 (servers, server actions, images, server types,
 * locations, datacenters, load balancers and their actions) on 127.0.0.1, seeded from
 * fixtures/hetzner. Changes answer actions that go from `running` to `success` transitionMs
 * later; a server or balancer with an action running refuses another one with 423 `locked`, as
 * Hetzner does. Lists page like the API: page/per_page (at most 50), meta.pagination.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { ReplayRequest } from './replay-server.ts';
import { Fault, empty, fixture, isObj, json, startRestServer, type Json, type RestServer } from './rest-server.ts';

export const HETZNER_TEST_TOKEN = 'hcloudTestTokenSkygraph0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
/** the root password the stand-in answers for a server created without SSH keys */
export const HETZNER_ROOT_PASSWORD = 'hN7vTq3KpXw9LmZ2rJdS';

export interface HetznerServerOptions {
  transitionMs?: number;
}

export interface HetznerTestServer {
  /** the API base (`.../v1`), for `endpoint` */
  endpoint: string;
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  servers: Map<string, Json>;
  balancers: Map<string, Json>;
  posted: { path: string; body: Json }[];
  rest: RestServer;
  close(): Promise<void>;
}

const SERVER_KEYS = [
  'name', 'server_type', 'image', 'location', 'datacenter', 'start_after_create', 'ssh_keys', 'user_data', 'labels', 'networks', 'firewalls',
  'volumes', 'automount', 'public_net', 'placement_group',
];
const LB_KEYS = ['name', 'load_balancer_type', 'algorithm', 'location', 'network_zone', 'labels', 'targets', 'services', 'public_interface', 'network'];
const SERVICE_KEYS = ['protocol', 'listen_port', 'destination_port', 'proxyprotocol', 'health_check', 'http'];
const SERVER_ACTIONS = ['poweron', 'poweroff', 'reboot', 'reset', 'shutdown'];
const now = () => new Date().toISOString().replace(/\.\d+Z$/, '+00:00');

export async function startHetznerServer(opts: HetznerServerOptions = {}): Promise<HetznerTestServer> {
  const rest = await startRestServer({
    token: HETZNER_TEST_TOKEN,
    unauthorized: fixture('hetzner/unauthorized.json'),
    rateLimited: fixture('hetzner/rate-limited.json'),
    badRequest: (message) => new Fault(400, { error: { code: 'invalid_input', message, details: {} } }),
    transitionMs: opts.transitionMs,
  });
  const { route } = rest;
  const servers = new Map<string, Json>(fixture<{ servers: Json[] }>('hetzner/servers.json').servers.map((s) => [String(s.id), s]));
  const balancers = new Map<string, Json>(fixture<{ load_balancers: Json[] }>('hetzner/load-balancers.json').load_balancers.map((b) => [String(b.id), b]));
  const types = fixture<{ server_types: Json[] }>('hetzner/server-types.json').server_types;
  const images = fixture<{ images: Json[] }>('hetzner/images.json').images;
  const locations = fixture<{ locations: Json[] }>('hetzner/locations.json').locations;
  const datacenters = fixture<{ datacenters: Json[] }>('hetzner/datacenters.json').datacenters;
  const lbType = fixture('hetzner/load-balancer-type.json');
  const actions = new Map<string, Json>();
  /** "server:<id>" / "load_balancer:<id>" -> running action */
  const locks = new Map<string, Json>();
  const posted: { path: string; body: Json }[] = [];
  const notFound = () => new Fault(404, fixture('hetzner/not-found.json'));
  const invalid = (message: string) => new Fault(422, { error: { code: 'invalid_input', message, details: {} } });

  const page = (req: ReplayRequest, all: Json[], key: string, extra: Json = {}) => {
    const perPage = rest.intQuery(req, 'per_page', 1, 50, 25);
    const current = rest.intQuery(req, 'page', 1, 1_000_000, 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const pagination = { page: current, per_page: perPage, previous_page: current > 1 ? current - 1 : null, next_page: current < last ? current + 1 : null, last_page: last, total_entries: all.length };
    return json(200, { [key]: all.slice((current - 1) * perPage, current * perPage), ...extra, meta: { pagination } });
  };
  const byId = (map: Map<string, Json>, id: string) => {
    const v = map.get(decodeURIComponent(id));
    if (!v) throw notFound();
    return v;
  };
  /** Starts an action on `resources`; `done` runs when it succeeds. */
  const startAction = (command: string, resources: { id: number; type: string }[], done: () => void): Json => {
    for (const r of resources) if (locks.has(`${r.type}:${r.id}`)) throw new Fault(423, fixture('hetzner/locked.json'));
    const a: Json = { id: randomInt(100_000_000, 999_999_999), command, status: 'running', progress: 0, started: now(), finished: null, resources, error: null };
    actions.set(String(a.id), a);
    for (const r of resources) locks.set(`${r.type}:${r.id}`, a);
    rest.later(() => {
      done();
      Object.assign(a, { status: 'success', progress: 100, finished: now() });
      for (const r of resources) locks.delete(`${r.type}:${r.id}`);
    });
    return a;
  };
  const labelsOk = (v: unknown) => v === undefined || (isObj(v) && Object.values(v).every((x) => typeof x === 'string'));

  // https://docs.hetzner.cloud/reference/cloud#servers-list-servers
  route('GET', '/v1/servers', (req) => {
    rest.onlyQuery(req, ['page', 'per_page', 'name', 'label_selector', 'status', 'sort']);
    return page(req, [...servers.values()], 'servers');
  });
  route('GET', /^\/v1\/servers\/(\d+)$/, (_req, m) => json(200, { server: byId(servers, m![1]!) }));

  // https://docs.hetzner.cloud/reference/cloud#servers-create-a-server
  route('POST', '/v1/servers', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'servers', body });
    rest.onlyKeys(body, SERVER_KEYS, 'server');
    for (const k of ['name', 'server_type', 'image']) if (typeof body[k] !== 'string' || body[k] === '') throw rest.violation(`${k} is required and must be a string`);
    if (body.location !== undefined && body.datacenter !== undefined) throw invalid('location and datacenter are mutually exclusive');
    if (!labelsOk(body.labels)) throw rest.violation('labels must map strings to strings');
    if (body.ssh_keys !== undefined && (!Array.isArray(body.ssh_keys) || !body.ssh_keys.every((k) => typeof k === 'string'))) throw rest.violation('ssh_keys must be a list of names or ids');
    if ([...servers.values()].some((s) => s.name === body.name)) throw new Fault(409, { error: { code: 'uniqueness_error', message: 'server name is already used', details: {} } });
    const type = types.find((t) => t.name === body.server_type);
    const image = images.find((i) => String(i.id) === body.image || (i.type === 'system' && i.name === body.image && i.architecture === (type?.architecture ?? 'x86')));
    const location = body.location === undefined ? locations[0] : locations.find((l) => l.name === body.location);
    if (!type) throw invalid('server_type is invalid');
    if (!image) throw invalid('image is invalid');
    if (!location) throw invalid('location is invalid');
    const dc = datacenters.find((d) => (d.location as Json).name === location.name)!;
    const id = randomInt(50_000_000, 60_000_000);
    const s: Json = {
      id, name: body.name, status: 'initializing', created: now(),
      public_net: { ipv4: { id: id + 1, ip: `95.217.${randomInt(1, 250)}.${randomInt(1, 250)}`, blocked: false, dns_ptr: '' }, ipv6: null, floating_ips: [], firewalls: [] },
      private_net: [], server_type: type, datacenter: dc, image, iso: null, rescue_enabled: false, locked: false, backup_window: null,
      outgoing_traffic: null, ingoing_traffic: null, included_traffic: 21990232555520, protection: { delete: false, rebuild: false },
      labels: body.labels ?? {}, volumes: [], load_balancers: [], primary_disk_size: type.disk, placement_group: null,
    };
    servers.set(String(id), s);
    const action = startAction('create_server', [{ id, type: 'server' }], () => (s.status = body.start_after_create === false ? 'off' : 'running'));
    const rootPassword = Array.isArray(body.ssh_keys) && body.ssh_keys.length ? null : HETZNER_ROOT_PASSWORD;
    return json(201, { server: s, action, next_actions: [], root_password: rootPassword });
  });

  // https://docs.hetzner.cloud/reference/cloud#servers-delete-a-server
  route('DELETE', /^\/v1\/servers\/(\d+)$/, (_req, m) => {
    const s = byId(servers, m![1]!);
    s.status = 'deleting';
    const action = startAction('delete_server', [{ id: s.id as number, type: 'server' }], () => servers.delete(String(s.id)));
    return json(200, { action });
  });

  // https://docs.hetzner.cloud/reference/cloud#server-actions
  route('POST', /^\/v1\/servers\/(\d+)\/actions\/([a-z_]+)$/, (req, m) => {
    const s = byId(servers, m![1]!);
    const command = m![2]!;
    if (!SERVER_ACTIONS.includes(command)) throw rest.violation(`unknown server action ${command}`);
    const body = req.body.length ? rest.body(req) : {};
    posted.push({ path: `servers/actions/${command}`, body });
    rest.onlyKeys(body, [], `${command} body`);
    const target = command === 'poweroff' || command === 'shutdown' ? 'off' : 'running';
    if (target === 'running') s.status = 'starting';
    const action = startAction(`${command === 'poweron' ? 'start' : command === 'poweroff' ? 'stop' : command}_server`, [{ id: s.id as number, type: 'server' }], () => (s.status = target));
    return json(201, { action });
  });

  // https://docs.hetzner.cloud/reference/cloud#actions-get-an-action
  route('GET', /^\/v1\/actions\/(\d+)$/, (_req, m) => json(200, { action: byId(actions, m![1]!) }));

  // https://docs.hetzner.cloud/reference/cloud#images-list-images
  route('GET', '/v1/images', (req) => {
    rest.onlyQuery(req, ['page', 'per_page', 'name', 'type', 'status', 'bound_to', 'include_deprecated', 'label_selector', 'architecture', 'sort']);
    const name = req.query.get('name');
    return page(req, images.filter((i) => name === null || i.name === name), 'images');
  });
  route('GET', '/v1/server_types', (req) => (rest.onlyQuery(req, ['page', 'per_page', 'name']), page(req, types, 'server_types')));
  route('GET', '/v1/locations', (req) => (rest.onlyQuery(req, ['page', 'per_page', 'name', 'sort']), page(req, locations, 'locations')));
  route('GET', '/v1/datacenters', (req) => (rest.onlyQuery(req, ['page', 'per_page', 'name', 'sort']), page(req, datacenters, 'datacenters', { recommendation: 4 })));

  // https://docs.hetzner.cloud/reference/cloud#load-balancers
  route('GET', '/v1/load_balancers', (req) => (rest.onlyQuery(req, ['page', 'per_page', 'name', 'label_selector', 'sort']), page(req, [...balancers.values()], 'load_balancers')));
  route('GET', /^\/v1\/load_balancers\/(\d+)$/, (_req, m) => json(200, { load_balancer: byId(balancers, m![1]!) }));
  route('POST', '/v1/load_balancers', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'load_balancers', body });
    rest.onlyKeys(body, LB_KEYS, 'load_balancer');
    if (typeof body.name !== 'string' || body.name === '') throw rest.violation('name is required');
    if (body.load_balancer_type !== lbType.name) throw invalid('load_balancer_type is invalid');
    if (!isObj(body.algorithm) || !['round_robin', 'least_connections'].includes(body.algorithm.type as string)) throw rest.violation('algorithm.type must be round_robin or least_connections');
    const location = locations.find((l) => l.name === body.location);
    if (!location && body.network_zone === undefined) throw invalid('location or network_zone is required');
    if (!labelsOk(body.labels)) throw rest.violation('labels must map strings to strings');
    if ([...balancers.values()].some((b) => b.name === body.name)) throw new Fault(409, { error: { code: 'uniqueness_error', message: 'name is already used', details: {} } });
    const services = (Array.isArray(body.services) ? body.services : []).map((s: unknown, i: number) => checkService(s, `services[${i}]`));
    const targets = (Array.isArray(body.targets) ? body.targets : []).map((t: unknown, i: number) => checkTarget(t, `targets[${i}]`));
    const id = randomInt(3_000_000, 4_000_000);
    const lb: Json = {
      id, name: body.name, public_net: { enabled: body.public_interface !== false, ipv4: { ip: `49.13.${randomInt(1, 250)}.${randomInt(1, 250)}`, dns_ptr: '' }, ipv6: { ip: '2a01:4f8:c01e:300::1', dns_ptr: '' } },
      private_net: [], location: location ?? locations[0], load_balancer_type: lbType, protection: { delete: false }, labels: body.labels ?? {}, created: now(),
      services, targets, algorithm: body.algorithm, outgoing_traffic: null, ingoing_traffic: null, included_traffic: 21990232555520,
    };
    balancers.set(String(id), lb);
    const action = startAction('create_load_balancer', [{ id, type: 'load_balancer' }], () => undefined);
    return json(201, { load_balancer: lb, action });
  });
  route('PUT', /^\/v1\/load_balancers\/(\d+)$/, (req, m) => {
    const lb = byId(balancers, m![1]!);
    const body = rest.body(req);
    posted.push({ path: 'load_balancers/put', body });
    rest.onlyKeys(body, ['name', 'labels'], 'load_balancer update');
    if (body.name !== undefined) lb.name = body.name;
    if (body.labels !== undefined) lb.labels = body.labels;
    return json(200, { load_balancer: lb });
  });
  route('DELETE', /^\/v1\/load_balancers\/(\d+)$/, (_req, m) => {
    const lb = byId(balancers, m![1]!);
    if ((lb.protection as Json).delete) throw new Fault(403, { error: { code: 'protected', message: 'load balancer is delete protected', details: {} } });
    balancers.delete(String(lb.id));
    return empty(204);
  });
  route('POST', /^\/v1\/load_balancers\/(\d+)\/actions\/([a-z_]+)$/, (req, m) => {
    const lb = byId(balancers, m![1]!);
    const command = m![2]!;
    const body = rest.body(req);
    posted.push({ path: `load_balancers/actions/${command}`, body });
    const services = lb.services as Json[];
    const targets = lb.targets as Json[];
    let done: () => void;
    switch (command) {
      case 'add_target': {
        const target = checkTarget(body, 'add_target');
        if (targets.some((t) => sameTarget(t, target))) throw new Fault(422, { error: { code: 'target_already_defined', message: 'target already defined', details: {} } });
        done = () => targets.push(target);
        break;
      }
      case 'remove_target': {
        const target = checkTarget(body, 'remove_target');
        if (!targets.some((t) => sameTarget(t, target))) throw new Fault(404, { error: { code: 'load_balancer_target_not_found', message: 'target not found', details: {} } });
        done = () => (lb.targets = targets.filter((t) => !sameTarget(t, target)));
        break;
      }
      case 'add_service': {
        const service = checkService(body, 'add_service');
        if (services.some((s) => s.listen_port === service.listen_port)) throw new Fault(422, { error: { code: 'source_port_already_used', message: 'listen_port already used', details: {} } });
        done = () => services.push(service);
        break;
      }
      case 'update_service': {
        rest.onlyKeys(body, SERVICE_KEYS, 'update_service');
        const service = services.find((s) => s.listen_port === body.listen_port);
        if (!service) throw new Fault(404, { error: { code: 'load_balancer_service_not_found', message: 'service not found', details: {} } });
        done = () => Object.assign(service, body);
        break;
      }
      case 'delete_service': {
        rest.onlyKeys(body, ['listen_port'], 'delete_service');
        if (!services.some((s) => s.listen_port === body.listen_port)) throw new Fault(404, { error: { code: 'load_balancer_service_not_found', message: 'service not found', details: {} } });
        done = () => (lb.services = services.filter((s) => s.listen_port !== body.listen_port));
        break;
      }
      case 'change_algorithm': {
        rest.onlyKeys(body, ['type'], 'change_algorithm');
        if (!['round_robin', 'least_connections'].includes(body.type as string)) throw rest.violation('type must be round_robin or least_connections');
        done = () => (lb.algorithm = { type: body.type });
        break;
      }
      default:
        throw rest.violation(`unknown load balancer action ${command}`);
    }
    return json(201, { action: startAction(command, [{ id: lb.id as number, type: 'load_balancer' }], done) });
  });

  function checkService(s: unknown, where: string): Json {
    if (!isObj(s)) throw rest.violation(`${where} must be an object`);
    rest.onlyKeys(s, SERVICE_KEYS, where);
    if (!['tcp', 'http', 'https'].includes(s.protocol as string)) throw rest.violation(`${where}.protocol must be tcp, http or https`);
    for (const k of ['listen_port', 'destination_port']) if (s[k] !== undefined && !Number.isInteger(s[k])) throw rest.violation(`${where}.${k} must be an integer`);
    if (s.protocol === 'https' && !(isObj(s.http) && Array.isArray(s.http.certificates) && s.http.certificates.length)) throw invalid('https services need certificates');
    return { proxyprotocol: false, health_check: { protocol: 'tcp', port: s.destination_port, interval: 15, timeout: 10, retries: 3, http: null }, http: null, ...s };
  }

  function checkTarget(t: unknown, where: string): Json {
    if (!isObj(t)) throw rest.violation(`${where} must be an object`);
    if (t.type === 'server') {
      rest.onlyKeys(t, ['type', 'server', 'use_private_ip'], where);
      const id = isObj(t.server) ? t.server.id : undefined;
      if (!Number.isInteger(id)) throw rest.violation(`${where}.server.id must be an integer`);
      if (!servers.has(String(id))) throw invalid(`server ${String(id)} not found`);
      return { type: 'server', server: { id }, use_private_ip: t.use_private_ip === true, health_status: [] };
    }
    if (t.type === 'ip') {
      rest.onlyKeys(t, ['type', 'ip'], where);
      const ip = isObj(t.ip) ? t.ip.ip : undefined;
      if (typeof ip !== 'string' || isIP(ip) === 0) throw rest.violation(`${where}.ip.ip must be an IP address`);
      return { type: 'ip', ip: { ip }, health_status: [] };
    }
    if (t.type === 'label_selector') {
      rest.onlyKeys(t, ['type', 'label_selector', 'use_private_ip'], where);
      if (!isObj(t.label_selector) || typeof t.label_selector.selector !== 'string') throw rest.violation(`${where}.label_selector.selector must be a string`);
      return { type: 'label_selector', label_selector: { selector: t.label_selector.selector }, use_private_ip: t.use_private_ip === true, targets: [] };
    }
    throw rest.violation(`${where}.type must be server, ip or label_selector`);
  }

  return { endpoint: `${rest.url}/v1`, url: rest.url, requests: rest.requests, failures: rest.failures, servers, balancers, posted, rest, close: () => rest.close() };
}

function sameTarget(a: Json, b: Json): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'server') return (a.server as Json).id === (b.server as Json).id;
  if (a.type === 'ip') return (a.ip as Json).ip === (b.ip as Json).ip;
  return (a.label_selector as Json).selector === (b.label_selector as Json).selector;
}
