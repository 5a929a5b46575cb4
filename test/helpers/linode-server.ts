/**
 * A stateful stand-in for Linode API v4 (Linodes and their power actions, images, types,
 * regions, NodeBalancers with configs and nodes) on 127.0.0.1, seeded from fixtures/linode.
 * Linodes go provisioning -> running, booting -> running, shutting_down -> offline transitionMs
 * after the call. Lists page like the API: page/page_size (25 to 500), page/pages/results.
 * NodeBalancer nodes must be on the private network (192.168.128.0/17), as Linode requires.
 */
import { randomInt } from 'node:crypto';
import type { ReplayRequest } from './replay-server.ts';
import { Fault, fixture, isObj, json, startRestServer, type Json, type RestServer } from './rest-server.ts';

export const LINODE_TEST_TOKEN = 'a1b2c3d4e5f6linodetesttoken0skygraph0112233445566778899aabbccddeeff';

export interface LinodeServerOptions {
  transitionMs?: number;
}

export interface LinodeTestServer {
  /** the API base (`.../v4`), for `endpoint` */
  endpoint: string;
  url: string;
  requests: ReplayRequest[];
  failures: string[];
  instances: Map<string, Json>;
  balancers: Map<string, Json>;
  configs: Map<string, Json[]>;
  nodes: Map<string, Json[]>;
  posted: { path: string; body: Json }[];
  rest: RestServer;
  close(): Promise<void>;
}

const INSTANCE_KEYS = [
  'label', 'type', 'region', 'image', 'root_pass', 'authorized_keys', 'authorized_users', 'tags', 'booted', 'private_ip', 'metadata', 'backups_enabled',
  'firewall_id', 'stackscript_id', 'stackscript_data', 'swap_size', 'group', 'interfaces', 'placement_group', 'disk_encryption',
];
const NB_KEYS = ['label', 'region', 'client_conn_throttle', 'tags', 'configs', 'firewall_id'];
const CONFIG_KEYS = [
  'port', 'protocol', 'algorithm', 'stickiness', 'check', 'check_interval', 'check_timeout', 'check_attempts', 'check_path', 'check_body',
  'check_passive', 'proxy_protocol', 'cipher_suite', 'ssl_cert', 'ssl_key', 'nodes', 'udp_check_port', 'udp_session_timeout',
];
const NODE_KEYS = ['address', 'label', 'weight', 'mode'];
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, '');

export async function startLinodeServer(opts: LinodeServerOptions = {}): Promise<LinodeTestServer> {
  const fieldError = (field: string, reason: string) => new Fault(400, { errors: [{ field, reason }] });
  const rest = await startRestServer({
    token: LINODE_TEST_TOKEN,
    unauthorized: fixture('linode/unauthorized.json'),
    rateLimited: fixture('linode/rate-limited.json'),
    badRequest: (message) => new Fault(400, { errors: [{ reason: message }] }),
    transitionMs: opts.transitionMs,
  });
  const { route } = rest;
  const instances = new Map<string, Json>(fixture<{ data: Json[] }>('linode/instances.json').data.map((l) => [String(l.id), l]));
  const balancers = new Map<string, Json>(fixture<{ data: Json[] }>('linode/nodebalancers.json').data.map((b) => [String(b.id), b]));
  const configs = new Map<string, Json[]>(Object.entries(fixture<Record<string, { data: Json[] }>>('linode/configs.json')).map(([k, v]) => [k, v.data]));
  const nodes = new Map<string, Json[]>(Object.entries(fixture<Record<string, { data: Json[] }>>('linode/nodes.json')).map(([k, v]) => [k, v.data]));
  const types = fixture<{ data: Json[] }>('linode/types.json').data;
  const images = fixture<{ data: Json[] }>('linode/images.json').data;
  const regions = fixture<{ data: Json[] }>('linode/regions.json').data;
  const posted: { path: string; body: Json }[] = [];
  const notFound = () => new Fault(404, fixture('linode/not-found.json'));

  const page = (req: ReplayRequest, all: Json[]) => {
    const size = rest.intQuery(req, 'page_size', 25, 500, 100);
    const current = rest.intQuery(req, 'page', 1, 1_000_000, 1);
    const pages = Math.max(1, Math.ceil(all.length / size));
    return json(200, { data: all.slice((current - 1) * size, current * size), page: current, pages, results: all.length });
  };
  const get = <T>(map: Map<string, T>, id: string): T => {
    const v = map.get(id);
    if (v === undefined) throw notFound();
    return v;
  };
  const checkNode = (n: unknown, where: string, configNodes: Json[]): Json => {
    if (!isObj(n)) throw rest.violation(`${where} must be an object`);
    rest.onlyKeys(n, NODE_KEYS, where);
    if (typeof n.label !== 'string' || !/^[a-zA-Z0-9._-]{3,32}$/.test(n.label)) throw fieldError('label', 'Label must be 3-32 characters');
    const m = typeof n.address === 'string' ? /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(n.address) : null;
    if (!m) throw fieldError('address', 'Must be a valid IPv4 address and port');
    const [a, b, c] = m[1]!.split('.').map(Number);
    if (!(a === 192 && b === 168 && c! >= 128)) throw fieldError('address', 'Must be a private IPv4 address');
    if (configNodes.some((x) => x.address === n.address)) throw fieldError('address', 'This address is already in use by another node in this config');
    if (n.mode !== undefined && !['accept', 'reject', 'drain', 'backup'].includes(n.mode as string)) throw rest.violation('mode is invalid');
    return { id: randomInt(6_000_000, 7_000_000), address: n.address, label: n.label, status: 'Unknown', weight: n.weight ?? 100, mode: n.mode ?? 'accept' };
  };
  const checkConfig = (c: Json, where: string, nbId: number): Json => {
    rest.onlyKeys(c, CONFIG_KEYS, where);
    if (c.port !== undefined && (!Number.isInteger(c.port) || (c.port as number) < 1 || (c.port as number) > 65535)) throw fieldError('port', 'Must be between 1 and 65535');
    if (c.protocol !== undefined && !['http', 'https', 'tcp', 'udp'].includes(c.protocol as string)) throw fieldError('protocol', 'Must be one of http, https, tcp, udp');
    if (c.algorithm !== undefined && !['roundrobin', 'leastconn', 'source', 'ring_hash'].includes(c.algorithm as string)) throw fieldError('algorithm', 'Must be one of roundrobin, leastconn, source');
    if (c.protocol === 'https' && (typeof c.ssl_cert !== 'string' || typeof c.ssl_key !== 'string')) throw fieldError('ssl_cert', 'SSL certificate and key are required for HTTPS');
    return {
      id: randomInt(120_000, 130_000), port: 80, protocol: 'http', algorithm: 'roundrobin', stickiness: 'none', check: 'none', check_interval: 0, check_timeout: 30, check_attempts: 3,
      check_path: '', check_body: '', check_passive: true, proxy_protocol: 'none', cipher_suite: 'recommended', ssl_commonname: '', ssl_fingerprint: '',
      ...c, ssl_cert: c.ssl_cert === undefined ? null : '<REDACTED>', ssl_key: c.ssl_key === undefined ? null : '<REDACTED>', nodebalancer_id: nbId, nodes_status: { up: 0, down: 0 },
    };
  };

  // https://techdocs.akamai.com/linode-api/reference/get-linode-instances
  route('GET', '/v4/linode/instances', (req) => (rest.onlyQuery(req, ['page', 'page_size']), page(req, [...instances.values()])));
  route('GET', /^\/v4\/linode\/instances\/(\d+)$/, (_req, m) => json(200, get(instances, m![1]!)));

  // https://techdocs.akamai.com/linode-api/reference/post-linode-instance
  route('POST', '/v4/linode/instances', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'linode/instances', body });
    rest.onlyKeys(body, INSTANCE_KEYS, 'instance');
    if (typeof body.label !== 'string' || !/^[a-zA-Z0-9](?:[a-zA-Z0-9]|[-_.](?![-_.])){1,62}[a-zA-Z0-9]$/.test(body.label)) throw fieldError('label', 'Label must be 3-64 characters');
    const type = types.find((t) => t.id === body.type);
    if (!type) throw fieldError('type', 'A valid plan type by that ID was not found');
    if (!regions.some((r) => r.id === body.region)) throw fieldError('region', 'region is not valid');
    if (body.image !== undefined) {
      if (!images.some((i) => i.id === body.image)) throw fieldError('image', 'image is not valid');
      if (typeof body.root_pass !== 'string') throw fieldError('root_pass', 'root_pass is required when image is given');
    }
    if (body.root_pass !== undefined && (typeof body.root_pass !== 'string' || body.root_pass.length < 7 || body.root_pass.length > 128)) throw fieldError('root_pass', 'Password must be between 7 and 128 characters');
    if (body.tags !== undefined && (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string' && t.length >= 3 && t.length <= 50))) throw fieldError('tags', 'Tags must be 3-50 characters');
    if (body.authorized_keys !== undefined && (!Array.isArray(body.authorized_keys) || !body.authorized_keys.every((k) => typeof k === 'string' && /^ssh-|^ecdsa-/.test(k)))) throw fieldError('authorized_keys', 'Invalid SSH key');
    if (body.metadata !== undefined && !(isObj(body.metadata) && typeof body.metadata.user_data === 'string' && /^[A-Za-z0-9+/=]*$/.test(body.metadata.user_data))) throw fieldError('metadata.user_data', 'Must be base64 encoded');
    if ([...instances.values()].some((l) => l.label === body.label)) throw fieldError('label', 'Label must be unique among your Linodes');
    const id = randomInt(63_000_000, 64_000_000);
    const specs = { disk: type.disk, memory: type.memory, vcpus: type.vcpus, gpus: 0, transfer: type.transfer };
    const l: Json = {
      id, label: body.label, group: '', status: 'provisioning', created: stamp(), updated: stamp(), type: body.type,
      ipv4: [`172.105.${randomInt(1, 250)}.${randomInt(1, 250)}`, ...(body.private_ip ? [`192.168.${randomInt(128, 250)}.${randomInt(1, 250)}`] : [])],
      ipv6: `2600:3c03::f03c:94ff:fe${randomInt(16, 255).toString(16)}:${randomInt(4096, 65535).toString(16)}/128`, image: body.image ?? null, region: body.region, specs,
      alerts: { cpu: 90, network_in: 10, network_out: 10, transfer_quota: 80, io: 10000 }, backups: { enabled: body.backups_enabled === true, available: false, schedule: { day: null, window: null }, last_successful: null },
      hypervisor: 'kvm', watchdog_enabled: true, tags: body.tags ?? [], host_uuid: '3a3ddd59d9a78bb8de041391075df44de62bfec8', has_user_data: body.metadata !== undefined,
    };
    instances.set(String(id), l);
    rest.later(() => (l.status = body.booted === false ? 'offline' : 'running'));
    return json(200, l);
  });

  // https://techdocs.akamai.com/linode-api/reference/delete-linode-instance
  route('DELETE', /^\/v4\/linode\/instances\/(\d+)$/, (_req, m) => {
    const l = get(instances, m![1]!);
    l.status = 'deleting';
    rest.later(() => instances.delete(String(l.id)));
    return json(200, {});
  });

  route('POST', /^\/v4\/linode\/instances\/(\d+)\/(reboot|boot|shutdown)$/, (req, m) => {
    const l = get(instances, m![1]!);
    const body = req.body.length ? rest.body(req) : {};
    posted.push({ path: `linode/instances/${m![2]!}`, body });
    rest.onlyKeys(body, ['config_id'], m![2]!);
    const what = m![2]!;
    if (l.status !== 'running' && l.status !== 'offline') throw fieldError('status', 'Linode busy.');
    l.status = what === 'reboot' ? 'rebooting' : what === 'boot' ? 'booting' : 'shutting_down';
    rest.later(() => (l.status = what === 'shutdown' ? 'offline' : 'running'));
    return json(200, {});
  });

  route('GET', '/v4/images', (req) => (rest.onlyQuery(req, ['page', 'page_size']), page(req, images)));
  route('GET', '/v4/linode/types', (req) => (rest.onlyQuery(req, ['page', 'page_size']), page(req, types)));
  route('GET', '/v4/regions', (req) => (rest.onlyQuery(req, ['page', 'page_size']), page(req, regions)));

  // https://techdocs.akamai.com/linode-api/reference/nodebalancers
  route('GET', '/v4/nodebalancers', (req) => (rest.onlyQuery(req, ['page', 'page_size']), page(req, [...balancers.values()])));
  route('GET', /^\/v4\/nodebalancers\/(\d+)$/, (_req, m) => json(200, get(balancers, m![1]!)));
  route('POST', '/v4/nodebalancers', (req) => {
    const body = rest.body(req);
    posted.push({ path: 'nodebalancers', body });
    rest.onlyKeys(body, NB_KEYS, 'nodebalancer');
    if (!regions.some((r) => r.id === body.region)) throw fieldError('region', 'region is not valid');
    if (body.label !== undefined && (typeof body.label !== 'string' || !/^[a-zA-Z0-9_-]{3,32}$/.test(body.label))) throw fieldError('label', 'Label must be 3-32 characters');
    if (body.configs !== undefined && !Array.isArray(body.configs)) throw rest.violation('configs must be a list');
    const id = randomInt(750_000, 760_000);
    const made = ((body.configs ?? []) as unknown[]).map((c, i) => {
      if (!isObj(c)) throw rest.violation(`configs[${i}] must be an object`);
      const { nodes: given, ...rest_ } = c;
      const config = checkConfig(rest_, `configs[${i}]`, id);
      const list: Json[] = [];
      for (const [j, n] of ((given ?? []) as unknown[]).entries()) list.push({ ...checkNode(n, `configs[${i}].nodes[${j}]`, list), config_id: config.id, nodebalancer_id: id });
      return { config, list };
    });
    const nb: Json = {
      id, label: body.label ?? `nodebalancer${id}`, region: body.region, hostname: `nb-${id}.newark.nodebalancer.linode.com`, ipv4: `45.79.201.${randomInt(1, 250)}`, ipv6: '2600:3c03:1::2d4f:c90b',
      client_conn_throttle: body.client_conn_throttle ?? 0, created: stamp(), updated: stamp(), tags: body.tags ?? [], transfer: { in: null, out: null, total: null },
    };
    balancers.set(String(id), nb);
    configs.set(String(id), made.map((x) => x.config));
    for (const x of made) nodes.set(String(x.config.id), x.list);
    return json(200, nb);
  });
  route('PUT', /^\/v4\/nodebalancers\/(\d+)$/, (req, m) => {
    const nb = get(balancers, m![1]!);
    const body = rest.body(req);
    posted.push({ path: 'nodebalancers/put', body });
    rest.onlyKeys(body, ['label', 'client_conn_throttle', 'tags'], 'nodebalancer update');
    if (body.label !== undefined && (typeof body.label !== 'string' || !/^[a-zA-Z0-9_-]{3,32}$/.test(body.label))) throw fieldError('label', 'Label must be 3-32 characters');
    Object.assign(nb, body, { updated: stamp() });
    return json(200, nb);
  });
  route('DELETE', /^\/v4\/nodebalancers\/(\d+)$/, (_req, m) => {
    get(balancers, m![1]!);
    balancers.delete(m![1]!);
    for (const c of configs.get(m![1]!) ?? []) nodes.delete(String(c.id));
    configs.delete(m![1]!);
    return json(200, {});
  });
  route('GET', /^\/v4\/nodebalancers\/(\d+)\/configs$/, (req, m) => (get(balancers, m![1]!), rest.onlyQuery(req, ['page', 'page_size']), page(req, configs.get(m![1]!) ?? [])));
  const config = (nb: string, cid: string) => {
    get(balancers, nb);
    const c = (configs.get(nb) ?? []).find((x) => String(x.id) === cid);
    if (!c) throw notFound();
    return c;
  };
  route('PUT', /^\/v4\/nodebalancers\/(\d+)\/configs\/(\d+)$/, (req, m) => {
    const c = config(m![1]!, m![2]!);
    const body = rest.body(req);
    posted.push({ path: 'nodebalancers/configs/put', body });
    const checked = checkConfig({ port: c.port, protocol: c.protocol, algorithm: c.algorithm, ...body }, 'config update', Number(m![1]));
    Object.assign(c, { port: checked.port, protocol: checked.protocol, algorithm: checked.algorithm });
    return json(200, c);
  });
  route('GET', /^\/v4\/nodebalancers\/(\d+)\/configs\/(\d+)\/nodes$/, (req, m) => {
    config(m![1]!, m![2]!);
    rest.onlyQuery(req, ['page', 'page_size']);
    return page(req, nodes.get(m![2]!) ?? []);
  });
  route('POST', /^\/v4\/nodebalancers\/(\d+)\/configs\/(\d+)\/nodes$/, (req, m) => {
    const c = config(m![1]!, m![2]!);
    const body = rest.body(req);
    posted.push({ path: 'nodebalancers/configs/nodes', body });
    const list = nodes.get(m![2]!) ?? [];
    const node = { ...checkNode(body, 'node', list), config_id: c.id, nodebalancer_id: Number(m![1]) };
    list.push(node);
    nodes.set(m![2]!, list);
    return json(200, node);
  });
  route('DELETE', /^\/v4\/nodebalancers\/(\d+)\/configs\/(\d+)\/nodes\/(\d+)$/, (_req, m) => {
    config(m![1]!, m![2]!);
    const list = nodes.get(m![2]!) ?? [];
    if (!list.some((n) => String(n.id) === m![3])) throw notFound();
    nodes.set(m![2]!, list.filter((n) => String(n.id) !== m![3]));
    return json(200, {});
  });

  return { endpoint: `${rest.url}/v4`, url: rest.url, requests: rest.requests, failures: rest.failures, instances, balancers, configs, nodes, posted, rest, close: () => rest.close() };
}
