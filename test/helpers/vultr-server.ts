/**
 * A stateful stand-in for Vultr API v2 (instances and their power actions, operating systems,
 * plans, regions, load balancers) on 127.0.0.1, seeded from fixtures/vultr. Instances go from
 * pending to active/running and balancers from pending to active transitionMs after the call.
 * Lists page like the API: per_page (at most 500) and an opaque cursor in meta.links.next.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { ReplayRequest } from './replay-server.ts';
import { Fault, empty, fixture, isObj, json, startRestServer, type Json, type RestServer } from './rest-server.ts';

export const VULTR_TEST_TOKEN = 'VULTRTESTKEY0SKYGRAPH0ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** the default password the stand-in answers for a new instance */
export const VULTR_DEFAULT_PASSWORD = 'v#4kQe9@Lm2xT7pz';

export interface VultrServerOptions {
  transitionMs?: number;
}

export interface VultrTestServer {
  /** the API base (`.../v2`), for `endpoint` */
  endpoint: string;
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  instances: Map<string, Json>;
  balancers: Map<string, Json>;
  posted: { path: string; body: Json }[];
  rest: RestServer;
  close(): Promise<void>;
}

const INSTANCE_KEYS = [
  'region', 'plan', 'os_id', 'iso_id', 'snapshot_id', 'app_id', 'image_id', 'label', 'hostname', 'tags', 'sshkey_id', 'user_data', 'enable_ipv6',
  'backups', 'ddos_protection', 'activation_email', 'script_id', 'firewall_group_id', 'enable_vpc', 'attach_vpc', 'user_scheme',
];
const LB_KEYS = [
  'region', 'label', 'balancing_algorithm', 'forwarding_rules', 'instances', 'ssl', 'ssl_redirect', 'proxy_protocol', 'health_check', 'sticky_session',
  'firewall_rules', 'vpc', 'http2', 'http3', 'nodes', 'timeout',
];
const RULE_KEYS = ['frontend_protocol', 'frontend_port', 'backend_protocol', 'backend_port'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, '+00:00');

export async function startVultrServer(opts: VultrServerOptions = {}): Promise<VultrTestServer> {
  const bad = (message: string) => new Fault(400, { error: message, status: 400 });
  const rest = await startRestServer({
    token: VULTR_TEST_TOKEN,
    unauthorized: fixture('vultr/unauthorized.json'),
    rateLimited: fixture('vultr/rate-limited.json'),
    badRequest: bad,
    transitionMs: opts.transitionMs,
  });
  const { route } = rest;
  const instances = new Map<string, Json>(fixture<{ instances: Json[] }>('vultr/instances.json').instances.map((i) => [i.id as string, i]));
  const balancers = new Map<string, Json>(fixture<{ load_balancers: Json[] }>('vultr/load-balancers.json').load_balancers.map((b) => [b.id as string, b]));
  const plans = fixture<{ plans: Json[] }>('vultr/plans.json').plans;
  const oses = fixture<{ os: Json[] }>('vultr/os.json').os;
  const regions = fixture<{ regions: Json[] }>('vultr/regions.json').regions;
  const posted: { path: string; body: Json }[] = [];
  const notFound = () => new Fault(404, fixture('vultr/not-found.json'));

  const page = (req: ReplayRequest, all: Json[], key: string) => {
    const perPage = rest.intQuery(req, 'per_page', 1, 500, 100);
    const cursor = req.query.get('cursor');
    let start = 0;
    if (cursor !== null) {
      const m = /^next__(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!m) throw bad('Invalid cursor');
      start = Number(m[1]);
    }
    const items = all.slice(start, start + perPage);
    const next = start + perPage < all.length ? Buffer.from(`next__${start + perPage}`).toString('base64') : '';
    const prev = start > 0 ? Buffer.from(`prev__${start}`).toString('base64') : '';
    return json(200, { [key]: items, meta: { total: all.length, links: { next, prev } } });
  };
  const get = (map: Map<string, Json>, id: string) => {
    const v = map.get(decodeURIComponent(id));
    if (!v) throw notFound();
    return v;
  };
  const instanceIds = (v: unknown, where: string): string[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw rest.violation(`${where} must be a list of instance ids`);
    for (const id of v as string[]) if (!instances.has(id)) throw bad(`Invalid instance: ${id}`);
    return v as string[];
  };
  const checkRules = (v: unknown): Json[] => {
    if (!Array.isArray(v) || v.length === 0) throw rest.violation('forwarding_rules must be a non-empty list');
    return v.map((r, i) => {
      if (!isObj(r)) throw rest.violation(`forwarding_rules[${i}] must be an object`);
      rest.onlyKeys(r, RULE_KEYS, `forwarding_rules[${i}]`);
      for (const k of ['frontend_protocol', 'backend_protocol']) if (!['http', 'https', 'tcp'].includes(r[k] as string)) throw rest.violation(`forwarding_rules[${i}].${k} is invalid`);
      for (const k of ['frontend_port', 'backend_port']) if (!Number.isInteger(r[k])) throw rest.violation(`forwarding_rules[${i}].${k} must be an integer`);
      return { id: randomUUID().replace(/-/g, '').slice(0, 16), ...r };
    });
  };

  // https://www.vultr.com/api/#tag/instances
  route('GET', '/v2/instances', (req) => (rest.onlyQuery(req, ['per_page', 'cursor', 'tag', 'label', 'main_ip', 'region']), page(req, [...instances.values()], 'instances')));
  route('GET', /^\/v2\/instances\/([^/]+)$/, (_req, m) => json(200, { instance: get(instances, m![1]!) }));
  route('POST', '/v2/instances', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'instances', body });
    rest.onlyKeys(body, INSTANCE_KEYS, 'instance');
    const plan = plans.find((p) => p.id === body.plan);
    if (!regions.some((r) => r.id === body.region)) throw bad('Invalid region.');
    if (!plan) throw bad('Invalid plan.');
    const os = oses.find((o) => o.id === body.os_id);
    if (body.os_id !== undefined && !os) throw bad('Invalid operating system.');
    if (body.os_id === undefined && body.snapshot_id === undefined) throw bad('You must choose an operating system, app, ISO, or snapshot.');
    if (body.tags !== undefined && (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string'))) throw rest.violation('tags must be a list of strings');
    if (body.user_data !== undefined && (typeof body.user_data !== 'string' || !/^[A-Za-z0-9+/=]*$/.test(body.user_data))) throw bad('user_data must be base64 encoded');
    if (body.sshkey_id !== undefined && (!Array.isArray(body.sshkey_id) || !body.sshkey_id.every((k) => typeof k === 'string' && UUID.test(k)))) throw bad('Invalid SSH key.');
    const id = randomUUID();
    const i: Json = {
      id, os: os?.name ?? 'Snapshot', ram: plan.ram, disk: 0, main_ip: '0.0.0.0', vcpu_count: plan.vcpu_count, region: body.region, plan: body.plan, date_created: stamp(),
      status: 'pending', allowed_bandwidth: plan.bandwidth, netmask_v4: '', gateway_v4: '0.0.0.0', power_status: 'running', server_status: 'none',
      v6_network: '', v6_main_ip: '', v6_network_size: 0, label: body.label ?? '', internal_ip: '', kvm: '', hostname: body.hostname ?? body.label ?? '',
      tag: '', tags: body.tags ?? [], os_id: body.os_id ?? 164, app_id: 0, image_id: '', firewall_group_id: '', features: [], user_scheme: 'root',
    };
    instances.set(id, i);
    rest.later(() => Object.assign(i, { status: 'active', server_status: 'ok', disk: plan.disk, main_ip: `149.28.${randomInt(1, 250)}.${randomInt(1, 250)}`, gateway_v4: '149.28.0.1', netmask_v4: '255.255.254.0' }));
    return json(202, { instance: { ...i, default_password: VULTR_DEFAULT_PASSWORD } });
  });
  route('DELETE', /^\/v2\/instances\/([^/]+)$/, (_req, m) => {
    const i = get(instances, m![1]!);
    rest.later(() => instances.delete(i.id as string));
    return empty(204);
  });
  route('POST', /^\/v2\/instances\/([^/]+)\/(reboot|start|halt)$/, (req, m) => {
    const i = get(instances, m![1]!);
    if (req.body.length) throw rest.violation(`${m![2]!} takes no body`);
    posted.push({ path: `instances/${m![2]!}`, body: {} });
    if (m![2] === 'reboot' || m![2] === 'start') i.server_status = 'installingbooting';
    rest.later(() => Object.assign(i, { power_status: m![2] === 'halt' ? 'stopped' : 'running', server_status: 'ok' }));
    return empty(204);
  });

  route('GET', '/v2/os', (req) => (rest.onlyQuery(req, ['per_page', 'cursor']), page(req, oses, 'os')));
  route('GET', '/v2/plans', (req) => (rest.onlyQuery(req, ['per_page', 'cursor', 'type', 'os']), page(req, plans, 'plans')));
  route('GET', '/v2/regions', (req) => (rest.onlyQuery(req, ['per_page', 'cursor']), page(req, regions, 'regions')));

  // https://www.vultr.com/api/#tag/load-balancer
  route('GET', '/v2/load-balancers', (req) => (rest.onlyQuery(req, ['per_page', 'cursor']), page(req, [...balancers.values()], 'load_balancers')));
  route('GET', /^\/v2\/load-balancers\/([^/]+)$/, (_req, m) => json(200, { load_balancer: get(balancers, m![1]!) }));
  route('POST', '/v2/load-balancers', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'load-balancers', body });
    rest.onlyKeys(body, LB_KEYS, 'load balancer');
    if (!regions.some((r) => r.id === body.region)) throw bad('Invalid region.');
    if (body.balancing_algorithm !== undefined && !['roundrobin', 'leastconn'].includes(body.balancing_algorithm as string)) throw rest.violation('balancing_algorithm must be roundrobin or leastconn');
    const rules = checkRules(body.forwarding_rules);
    if (rules.some((r) => r.frontend_protocol === 'https') && !(isObj(body.ssl) && typeof body.ssl.private_key === 'string')) throw bad('SSL is required for HTTPS forwarding rules.');
    const id = randomUUID();
    const lb: Json = {
      id, date_created: stamp(), region: body.region, label: body.label ?? '', status: 'pending', ipv4: '', ipv6: '',
      generic_info: { balancing_algorithm: body.balancing_algorithm ?? 'roundrobin', ssl_redirect: body.ssl_redirect === true, sticky_sessions: { cookie_name: '' }, proxy_protocol: body.proxy_protocol === true, private_network: '', vpc: '' },
      health_check: { protocol: 'tcp', port: rules[0]!.backend_port, path: '', check_interval: 15, response_timeout: 5, unhealthy_threshold: 5, healthy_threshold: 5 },
      has_ssl: body.ssl !== undefined, http2: false, http3: false, nodes: 1, forwarding_rules: rules, instances: body.instances === undefined ? [] : instanceIds(body.instances, 'instances'), firewall_rules: [],
    };
    balancers.set(id, lb);
    rest.later(() => Object.assign(lb, { status: 'active', ipv4: `144.202.${randomInt(1, 250)}.${randomInt(1, 250)}` }));
    return json(202, { load_balancer: lb });
  });
  route('PATCH', /^\/v2\/load-balancers\/([^/]+)$/, (req, m) => {
    const lb = get(balancers, m![1]!);
    const body = rest.body(req);
    posted.push({ path: 'load-balancers/patch', body });
    rest.onlyKeys(body, LB_KEYS.filter((k) => k !== 'region'), 'load balancer update');
    if (body.label !== undefined) lb.label = body.label;
    if (body.balancing_algorithm !== undefined) {
      if (!['roundrobin', 'leastconn'].includes(body.balancing_algorithm as string)) throw rest.violation('balancing_algorithm must be roundrobin or leastconn');
      (lb.generic_info as Json).balancing_algorithm = body.balancing_algorithm;
    }
    if (body.forwarding_rules !== undefined) lb.forwarding_rules = checkRules(body.forwarding_rules);
    if (body.instances !== undefined) lb.instances = instanceIds(body.instances, 'instances');
    return empty(204);
  });
  route('DELETE', /^\/v2\/load-balancers\/([^/]+)$/, (_req, m) => {
    const lb = get(balancers, m![1]!);
    balancers.delete(lb.id as string);
    return empty(204);
  });

  return { endpoint: `${rest.url}/v2`, url: rest.url, requests: rest.requests, failures: rest.failures, instances, balancers, posted, rest, close: () => rest.close() };
}

