/**
 * A stateful stand-in for DigitalOcean API v2 (droplets, droplet actions, images, sizes, regions,
 * load balancers) on 127.0.0.1. Seeded from fixtures/digitalocean; droplets and balancers move
 * from `new` to `active`, and actions from `in-progress` to `completed`, transitionMs after the
 * call. A droplet with an action in progress refuses another one (422), as DigitalOcean does.
 * Lists page like the API: page/per_page (at most 200), links.pages with absolute URLs on
 * api.digitalocean.com, meta.total.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { ReplayRequest } from './replay-server.ts';
import { Fault, empty, fixture, isObj, json, startRestServer, type Json, type RestServer } from './rest-server.ts';

export const DIGITALOCEAN_TEST_TOKEN = 'dop_v1_5k7testtoken0skygraph0digitalocean0a1b2c3d4e5f60718293a4b5c6d7e8f9';

export interface DigitalOceanServerOptions {
  transitionMs?: number;
}

export interface DigitalOceanTestServer {
  /** the API base (`.../v2`), for `endpoint` */
  endpoint: string;
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  droplets: Map<string, Json>;
  balancers: Map<string, Json>;
  /** POST bodies received, by path kind */
  posted: { path: string; body: Json }[];
  rest: RestServer;
  close(): Promise<void>;
}

const DROPLET_KEYS = ['name', 'region', 'size', 'image', 'ssh_keys', 'backups', 'ipv6', 'monitoring', 'tags', 'user_data', 'vpc_uuid', 'with_droplet_agent', 'volumes'];
const LB_KEYS = [
  'name', 'region', 'size_unit', 'size', 'algorithm', 'forwarding_rules', 'health_check', 'sticky_sessions', 'droplet_ids', 'tag',
  'redirect_http_to_https', 'enable_proxy_protocol', 'enable_backend_keepalive', 'http_idle_timeout_seconds', 'vpc_uuid', 'project_id', 'firewall', 'type', 'network',
];
const RULE_KEYS = ['entry_protocol', 'entry_port', 'target_protocol', 'target_port', 'certificate_id', 'tls_passthrough'];
const PROTOCOLS = ['http', 'https', 'http2', 'http3', 'tcp', 'udp'];
const ACTIONS = ['reboot', 'power_cycle', 'power_on', 'power_off', 'shutdown'];

export async function startDigitalOceanServer(opts: DigitalOceanServerOptions = {}): Promise<DigitalOceanTestServer> {
  const rest = await startRestServer({
    token: DIGITALOCEAN_TEST_TOKEN,
    unauthorized: fixture('digitalocean/unauthorized.json'),
    rateLimited: fixture('digitalocean/rate-limited.json'),
    badRequest: (message) => new Fault(422, { id: 'unprocessable_entity', message }),
    transitionMs: opts.transitionMs,
  });
  const { route } = rest;
  const droplets = new Map<string, Json>(fixture<{ droplets: Json[] }>('digitalocean/droplets.json').droplets.map((d) => [String(d.id), d]));
  const balancers = new Map<string, Json>(fixture<{ load_balancers: Json[] }>('digitalocean/load-balancers.json').load_balancers.map((b) => [String(b.id), b]));
  const sizes = fixture<{ sizes: Json[] }>('digitalocean/sizes.json').sizes;
  const regions = fixture<{ regions: Json[] }>('digitalocean/regions.json').regions;
  const distribution = fixture<{ images: Json[] }>('digitalocean/images-distribution.json').images;
  const privateImages = fixture<{ images: Json[] }>('digitalocean/images-private.json').images;
  const actions = new Map<string, Json>();
  /** droplet id -> action in progress */
  const busy = new Map<string, Json>();
  const posted: { path: string; body: Json }[] = [];
  const notFound = () => new Fault(404, fixture('digitalocean/not-found.json'));
  const unprocessable = (message: string) => new Fault(422, { id: 'unprocessable_entity', message });

  const page = (req: ReplayRequest, all: Json[], key: string, path: string) => {
    const perPage = rest.intQuery(req, 'per_page', 1, 200, 20);
    const current = rest.intQuery(req, 'page', 1, 1_000_000, 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number) => `https://api.digitalocean.com/v2/${path}?page=${p}&per_page=${perPage}`;
    const pages: Json = {};
    if (current > 1) Object.assign(pages, { first: link(1), prev: link(current - 1) });
    if (current < last) Object.assign(pages, { next: link(current + 1), last: link(last) });
    return json(200, { [key]: all.slice((current - 1) * perPage, current * perPage), links: { pages }, meta: { total: all.length } });
  };
  const droplet = (id: string) => {
    const d = droplets.get(decodeURIComponent(id));
    if (!d) throw notFound();
    return d;
  };
  const balancer = (id: string) => {
    const b = balancers.get(decodeURIComponent(id));
    if (!b) throw notFound();
    return b;
  };
  const findImage = (ref: unknown) =>
    [...distribution, ...privateImages].find((i) => (typeof ref === 'number' && i.id === ref) || (typeof ref === 'string' && ref !== '' && i.slug === ref));
  const dropletIdsOf = (value: unknown, where: string): number[] => {
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) throw rest.violation(`${where}: droplet_ids must be a list of integers`);
    for (const id of value as number[]) if (!droplets.has(String(id))) throw unprocessable(`droplet ${id} does not exist`);
    return value as number[];
  };
  const checkRules = (rules: unknown): Json[] => {
    if (!Array.isArray(rules) || rules.length === 0) throw rest.violation('forwarding_rules must be a non-empty list');
    return rules.map((r, i) => {
      if (!isObj(r)) throw rest.violation(`forwarding_rules[${i}] must be an object`);
      rest.onlyKeys(r, RULE_KEYS, `forwarding_rules[${i}]`);
      for (const k of ['entry_protocol', 'target_protocol']) if (!PROTOCOLS.includes(r[k] as string)) throw rest.violation(`forwarding_rules[${i}].${k} is not a protocol`);
      for (const k of ['entry_port', 'target_port']) if (!Number.isInteger(r[k])) throw rest.violation(`forwarding_rules[${i}].${k} must be an integer`);
      if (['https', 'http2', 'http3'].includes(r.entry_protocol as string) && !r.certificate_id && r.tls_passthrough !== true) {
        throw unprocessable('certificate_id or tls_passthrough is required for https');
      }
      return { certificate_id: '', tls_passthrough: false, ...r };
    });
  };

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_list
  route('GET', '/v2/droplets', (req) => {
    rest.onlyQuery(req, ['page', 'per_page', 'tag_name']);
    const tag = req.query.get('tag_name');
    const all = [...droplets.values()].filter((d) => tag === null || (d.tags as string[]).includes(tag));
    return page(req, all, 'droplets', 'droplets');
  });
  route('GET', /^\/v2\/droplets\/([^/]+)$/, (_req, m) => json(200, { droplet: droplet(m![1]!) }));

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_create
  route('POST', '/v2/droplets', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'droplets', body });
    rest.onlyKeys(body, DROPLET_KEYS, 'droplet');
    for (const k of ['name', 'region', 'size']) if (typeof body[k] !== 'string' || body[k] === '') throw rest.violation(`${k} is required`);
    if (!/^[a-zA-Z0-9.-]+$/.test(body.name as string)) throw unprocessable('Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)');
    if (body.tags !== undefined && (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string' && /^[a-zA-Z0-9_:-]{1,255}$/.test(t)))) throw rest.violation('tags must be a list of tag names');
    if (body.user_data !== undefined && typeof body.user_data !== 'string') throw rest.violation('user_data must be a string');
    const size = sizes.find((s) => s.slug === body.size);
    const region = regions.find((r) => r.slug === body.region);
    const image = findImage(body.image);
    if (!size) throw unprocessable('You specified an invalid size for Droplet creation.');
    if (!region) throw unprocessable('You specified an invalid region for Droplet creation.');
    if (!image) throw unprocessable('You specified an invalid image for Droplet creation.');
    const id = randomInt(500_000_000, 600_000_000);
    const d: Json = {
      id, name: body.name, memory: size.memory, vcpus: size.vcpus, disk: size.disk, locked: false, status: 'new', kernel: null,
      created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), features: [], backup_ids: [], next_backup_window: null, snapshot_ids: [],
      image, volume_ids: [], size, size_slug: size.slug, networks: { v4: [], v6: [] }, region, tags: body.tags ?? [], vpc_uuid: '5a4981aa-9653-4bd1-bef5-d6bff52042e4',
    };
    droplets.set(String(id), d);
    const create = newAction('create', id, region);
    rest.later(() => {
      d.status = 'active';
      d.networks = {
        v4: [
          { ip_address: `10.116.0.${randomInt(10, 250)}`, netmask: '255.255.240.0', gateway: '10.116.0.1', type: 'private' },
          { ip_address: `203.0.113.${randomInt(10, 250)}`, netmask: '255.255.255.0', gateway: '203.0.113.1', type: 'public' },
        ],
        v6: [],
      };
      create.status = 'completed';
    });
    return json(202, { droplet: d, links: { actions: [{ id: create.id, rel: 'create', href: `https://api.digitalocean.com/v2/actions/${String(create.id)}` }] } });
  });

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_destroy
  route('DELETE', /^\/v2\/droplets\/([^/]+)$/, (_req, m) => {
    const d = droplet(m![1]!);
    rest.later(() => droplets.delete(String(d.id)));
    return empty(204);
  });

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplet-Actions/operation/dropletActions_post
  route('POST', /^\/v2\/droplets\/([^/]+)\/actions$/, (req, m) => {
    const d = droplet(m![1]!);
    const body = rest.body(req);
    posted.push({ path: 'droplets/actions', body });
    rest.onlyKeys(body, ['type'], 'droplet action');
    if (!ACTIONS.includes(body.type as string)) throw rest.violation(`type must be one of ${ACTIONS.join(', ')}`);
    if (busy.has(String(d.id))) throw unprocessable('Droplet already has a pending event.');
    const a = newAction(body.type as string, d.id as number, d.region as Json);
    busy.set(String(d.id), a);
    rest.later(() => {
      d.status = body.type === 'power_off' || body.type === 'shutdown' ? 'off' : 'active';
      a.status = 'completed';
      a.completed_at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      busy.delete(String(d.id));
    });
    return json(201, { action: a });
  });

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Actions/operation/actions_get
  route('GET', /^\/v2\/actions\/(\d+)$/, (_req, m) => {
    const a = actions.get(m![1]!);
    if (!a) throw notFound();
    return json(200, { action: a });
  });

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Images/operation/images_list
  route('GET', '/v2/images', (req) => {
    rest.onlyQuery(req, ['page', 'per_page', 'type', 'private', 'tag_name']);
    const type = req.query.get('type');
    const priv = req.query.get('private');
    if (type !== null && !['distribution', 'application'].includes(type)) throw rest.violation('type must be distribution or application');
    if (priv !== null && priv !== 'true') throw rest.violation('private must be true');
    const all = priv === 'true' ? privateImages : type === 'distribution' ? distribution : [...distribution, ...privateImages];
    return page(req, all, 'images', 'images');
  });
  route('GET', '/v2/sizes', (req) => (rest.onlyQuery(req, ['page', 'per_page']), page(req, sizes, 'sizes', 'sizes')));
  route('GET', '/v2/regions', (req) => (rest.onlyQuery(req, ['page', 'per_page']), page(req, regions, 'regions', 'regions')));

  // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers
  route('GET', '/v2/load_balancers', (req) => (rest.onlyQuery(req, ['page', 'per_page']), page(req, [...balancers.values()], 'load_balancers', 'load_balancers')));
  route('GET', /^\/v2\/load_balancers\/([^/]+)$/, (_req, m) => json(200, { load_balancer: balancer(m![1]!) }));
  route('POST', '/v2/load_balancers', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'load_balancers', body });
    const lb = checkBalancer(body);
    const id = randomUUID();
    Object.assign(lb, { id, status: 'new', ip: '', ipv6: '', created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), type: 'REGIONAL', network: 'EXTERNAL' });
    balancers.set(id, lb);
    rest.later(() => Object.assign(lb, { status: 'active', ip: `198.51.100.${randomInt(10, 250)}` }));
    return json(202, { load_balancer: lb });
  });
  route('PUT', /^\/v2\/load_balancers\/([^/]+)$/, (req, m) => {
    const current = balancer(m![1]!);
    const body = rest.body(req);
    posted.push({ path: 'load_balancers/put', body });
    const lb = checkBalancer(body);
    for (const k of Object.keys(current)) if (!['id', 'status', 'ip', 'ipv6', 'created_at', 'type', 'network', 'project_id'].includes(k)) delete current[k];
    Object.assign(current, lb);
    return json(200, { load_balancer: current });
  });
  route('DELETE', /^\/v2\/load_balancers\/([^/]+)$/, (_req, m) => {
    const lb = balancer(m![1]!);
    balancers.delete(lb.id as string);
    return empty(204);
  });
  for (const method of ['POST', 'DELETE']) {
    route(method, /^\/v2\/load_balancers\/([^/]+)\/droplets$/, (req, m) => {
      const lb = balancer(m![1]!);
      const body = rest.body(req);
      posted.push({ path: `load_balancers/droplets ${method}`, body });
      rest.onlyKeys(body, ['droplet_ids'], 'droplets');
      const ids = dropletIdsOf(body.droplet_ids, 'droplets');
      if (lb.tag) throw unprocessable('droplets cannot be added to a load balancer that uses a tag');
      const current = new Set(lb.droplet_ids as number[]);
      for (const id of ids) if (method === 'POST') current.add(id);
      else current.delete(id);
      lb.droplet_ids = [...current];
      return empty(204);
    });
  }

  function checkBalancer(body: Json): Json {
    rest.onlyKeys(body, LB_KEYS, 'load_balancer');
    if (typeof body.name !== 'string' || !/^[a-zA-Z0-9.-]{1,255}$/.test(body.name)) throw unprocessable('name must be alphanumeric, dashes and periods');
    const region = regions.find((r) => r.slug === body.region || (isObj(body.region) && r.slug === body.region.slug));
    if (!region) throw unprocessable('region is invalid');
    if (body.algorithm !== undefined && !['round_robin', 'least_connections'].includes(body.algorithm as string)) throw rest.violation('algorithm must be round_robin or least_connections');
    if (body.droplet_ids !== undefined && body.tag) throw unprocessable('droplet_ids and tag are mutually exclusive');
    const rules = checkRules(body.forwarding_rules);
    return {
      ...body,
      region,
      forwarding_rules: rules,
      algorithm: body.algorithm ?? 'round_robin',
      droplet_ids: body.droplet_ids === undefined ? [] : dropletIdsOf(body.droplet_ids, 'load_balancer'),
      tag: body.tag ?? '',
      health_check: body.health_check ?? { protocol: 'http', port: 80, path: '/', check_interval_seconds: 10, response_timeout_seconds: 5, healthy_threshold: 5, unhealthy_threshold: 3 },
      sticky_sessions: body.sticky_sessions ?? { type: 'none' },
    };
  }

  function newAction(type: string, resourceId: number, region: Json): Json {
    const a: Json = {
      id: randomInt(2_000_000_000, 2_100_000_000), status: 'in-progress', type, started_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      completed_at: null, resource_id: resourceId, resource_type: 'droplet', region, region_slug: region.slug,
    };
    actions.set(String(a.id), a);
    return a;
  }

  return {
    endpoint: `${rest.url}/v2`,
    url: rest.url,
    requests: rest.requests,
    failures: rest.failures,
    droplets,
    balancers,
    posted,
    rest,
    close: () => rest.close(),
  };
}
