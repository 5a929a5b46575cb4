/**
 * The DigitalOcean load-balancer driver (API v2). Members are droplets, registered by id; every
 * droplet takes traffic on the forwarding rules' target port, so a member's port must be that
 * port. The first forwarding rule is the balancer's port and protocol.
 *
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { balancerChecks } from '../rest/balancer.ts';
import { list, num, obj, str, type Json } from '../rest/json.ts';
import { DIGITALOCEAN_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import type { CreateBalancerInput, LoadBalancerDriver, Member, Node } from '../types.ts';
import { ALGORITHM_NAMES, dropletIds, toBalancer, toMembers, toNode } from './mappers.ts';

/** What the balancer driver needs from its instance. */
export interface DigitalOceanLbOptions {
  provider: string;
  conn: () => Connection;
  pageSize: number;
  /** region of new balancers when createBalancer's ex.region is absent (options.region) */
  region: string | undefined;
}

/** https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_create (entry_protocol) */
const PROTOCOLS = ['http', 'https', 'http2', 'http3', 'tcp', 'udp'];
/** why: these terminate TLS, so they need a certificate or TLS passthrough */
const TLS_PROTOCOLS = new Set(['https', 'http2', 'http3']);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]{0,254}$/;
const EX_KEYS = ['region', 'dropletIds', 'targetPort', 'certificateId', 'tlsPassthrough'];

export function digitalOceanLoadBalancerDriver(opts: DigitalOceanLbOptions): LoadBalancerDriver {
  const { provider, conn } = opts;
  const { algorithms, fail, checkPort, checkAlgorithm, checkProtocol, checkExKeys } = balancerChecks({
    provider, vendor: 'DigitalOcean', algorithms: ALGORITHM_NAMES, protocols: PROTOCOLS, exKeys: EX_KEYS, exOf: 'a DigitalOcean balancer',
  });
  const lbPath = (id: string) => idPath(id, provider, 'a load balancer');

  const getLb = async (id: string): Promise<Json> => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_get
    const res = await conn().request<Json>({ operation: 'GET /load_balancers/{id}', path: `load_balancers/${lbPath(id)}` });
    const lb = obj(obj(res.body)?.load_balancer);
    if (!lb) throw new MalformedResponseError('GET /load_balancers/{id} answered without a load_balancer', { provider });
    return lb;
  };

  const changeDroplets = async (id: string, method: 'POST' | 'DELETE', droplets: string[]) => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_add_droplets
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_remove_droplets
    await conn().request({
      operation: `${method} /load_balancers/{id}/droplets`,
      method,
      path: `load_balancers/${lbPath(id)}/droplets`,
      json: { droplet_ids: droplets.map(Number) },
      responseType: 'none',
      expect: [204],
    });
  };

  const dropletId = (id: unknown, field: string): string => {
    if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) throw fail(field, `${field} must be a droplet id`);
    return id;
  };
  const targetPortOf = (lb: Json) => num(list(lb.forwarding_rules)[0]?.target_port);
  const memberPort = (lb: Json, port: number, field: string) => {
    const target = targetPortOf(lb);
    if (target !== undefined && port !== target) throw fail(field, `DigitalOcean sends to every droplet on the target port of the balancer's forwarding rules (${target})`);
  };

  /** The droplet holding an address; one paged listing. */
  const dropletWithIp = async (ip: string): Promise<Node | undefined> => {
    // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_list
    const droplets = await listAll(conn(), { provider, path: 'droplets', itemsKey: 'droplets', style: DIGITALOCEAN_PAGES, pageSize: opts.pageSize });
    return droplets.map((d) => toNode(d, provider)).find((n) => n.publicIps.includes(ip) || n.privateIps.includes(ip));
  };

  const attach = async (balancerId: string, droplet: string, port: number, field: string): Promise<Member> => {
    const lb = await getLb(balancerId);
    memberPort(lb, port, field);
    await changeDroplets(balancerId, 'POST', [droplet]);
    return { id: droplet, ip: null, port, nodeId: droplet, extra: {} };
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...algorithms],

    async listBalancers() {
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_list
      const lbs = await listAll(conn(), { provider, path: 'load_balancers', itemsKey: 'load_balancers', style: DIGITALOCEAN_PAGES, pageSize: opts.pageSize });
      return lbs.map((lb) => toBalancer(lb, provider));
    },

    getBalancer: async (id) => toBalancer(await getLb(id), provider),

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = checkAlgorithm(input.algorithm);
      if (typeof input.name !== 'string' || !NAME.test(input.name)) throw fail('name', 'name must be letters, digits, dots and dashes, at most 255');
      const port = checkPort(input.port, 'port');
      const protocol = checkProtocol(input.protocol);
      const ex = input.ex ?? {};
      const region = ex.region ?? opts.region;
      if (typeof region !== 'string' || region === '') throw fail('ex.region', 'ex.region (or the account option region) must name the region of the balancer');
      checkExKeys(ex);
      if (ex.dropletIds !== undefined && !Array.isArray(ex.dropletIds)) throw fail('ex.dropletIds', 'ex.dropletIds must be a list of droplet ids');
      const droplets = ((ex.dropletIds ?? []) as unknown[]).map((d, i) => dropletId(d, `ex.dropletIds[${i}]`));
      const ports = new Set(input.members.map((m, i) => checkPort(m?.port, `members[${i}].port`)));
      const targetPort = ex.targetPort === undefined ? ([...ports][0] ?? port) : checkPort(ex.targetPort, 'ex.targetPort');
      if ([...ports].some((p) => p !== targetPort)) throw fail('members', 'DigitalOcean sends to every droplet on one target port: give members one port');
      if (input.members.length) {
        const found = await Promise.all(input.members.map(async (m, i) => {
          if (typeof m.ip !== 'string' || isIP(m.ip) === 0) throw fail(`members[${i}].ip`, `members[${i}].ip must be an IP address`);
          return dropletWithIp(m.ip);
        }));
        found.forEach((n, i) => {
          if (!n) throw fail(`members[${i}].ip`, `members[${i}].ip is not an address of a droplet in this account`);
          droplets.push(n.id);
        });
      }
      const tls = TLS_PROTOCOLS.has(protocol);
      const certificateId = ex.certificateId;
      const passthrough = ex.tlsPassthrough === true;
      if (tls && !passthrough && (typeof certificateId !== 'string' || certificateId === '')) {
        throw fail('ex.certificateId', `protocol ${protocol} needs ex.certificateId (a certificate id) or ex.tlsPassthrough: true`);
      }
      const rule: Json = { entry_protocol: protocol, entry_port: port, target_protocol: tls ? (passthrough ? 'https' : 'http') : protocol, target_port: targetPort };
      if (tls && !passthrough) rule.certificate_id = certificateId;
      if (passthrough) rule.tls_passthrough = true;
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_create
      const res = await conn().request<Json>({
        operation: 'POST /load_balancers',
        method: 'POST',
        path: 'load_balancers',
        json: { name: input.name, region, size_unit: 1, algorithm, forwarding_rules: [rule], droplet_ids: [...new Set(droplets)].map(Number) },
        expect: [202, 201],
      });
      const lb = obj(obj(res.body)?.load_balancer);
      if (!lb) throw new MalformedResponseError('POST /load_balancers answered without a load_balancer', { provider });
      return toBalancer(lb, provider);
    },

    async updateBalancer(id, patch) {
      const lb = await getLb(id);
      const rules = list(lb.forwarding_rules);
      const first = { ...rules[0] };
      if (patch.name !== undefined && (typeof patch.name !== 'string' || !NAME.test(patch.name))) throw fail('name', 'name must be letters, digits, dots and dashes, at most 255');
      if (patch.port !== undefined) first.entry_port = checkPort(patch.port, 'port');
      if (patch.protocol !== undefined) {
        const protocol = checkProtocol(patch.protocol);
        if (TLS_PROTOCOLS.has(protocol) !== TLS_PROTOCOLS.has(str(first.entry_protocol) ?? '')) throw fail('protocol', 'switching between TLS and plain protocols needs new forwarding rules (certificate or passthrough)');
        first.entry_protocol = protocol;
        if (!TLS_PROTOCOLS.has(protocol)) first.target_protocol = protocol;
      }
      const algorithm = patch.algorithm !== undefined ? checkAlgorithm(patch.algorithm) : str(lb.algorithm);
      // why: PUT replaces the whole balancer; everything not changed is sent back as it was
      const body: Json = {
        name: patch.name ?? lb.name,
        region: str(obj(lb.region)?.slug) ?? lb.region,
        forwarding_rules: [first, ...rules.slice(1)],
        ...(algorithm ? { algorithm } : {}),
        ...(lb.size_unit !== undefined ? { size_unit: lb.size_unit } : lb.size !== undefined ? { size: lb.size } : {}),
        ...(str(lb.tag) ? { tag: lb.tag } : { droplet_ids: dropletIds(lb).map(Number) }),
        ...(obj(lb.health_check) ? { health_check: lb.health_check } : {}),
        ...(obj(lb.sticky_sessions) ? { sticky_sessions: lb.sticky_sessions } : {}),
        ...(typeof lb.redirect_http_to_https === 'boolean' ? { redirect_http_to_https: lb.redirect_http_to_https } : {}),
        ...(typeof lb.enable_proxy_protocol === 'boolean' ? { enable_proxy_protocol: lb.enable_proxy_protocol } : {}),
        ...(str(lb.vpc_uuid) ? { vpc_uuid: lb.vpc_uuid } : {}),
      };
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_update
      const res = await conn().request<Json>({ operation: 'PUT /load_balancers/{id}', method: 'PUT', path: `load_balancers/${lbPath(id)}`, json: body });
      const updated = obj(obj(res.body)?.load_balancer);
      if (!updated) throw new MalformedResponseError('PUT /load_balancers/{id} answered without a load_balancer', { provider });
      return toBalancer(updated, provider);
    },

    async destroyBalancer(id) {
      // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Load-Balancers/operation/loadBalancers_delete
      await conn().request({ operation: 'DELETE /load_balancers/{id}', method: 'DELETE', path: `load_balancers/${lbPath(id)}`, responseType: 'none' });
    },

    listMembers: async (balancerId) => toMembers(await getLb(balancerId)),

    async attachMember(balancerId, member) {
      const port = checkPort(member?.port, 'member.port');
      if (member.nodeId !== undefined) return attach(balancerId, dropletId(member.nodeId, 'member.nodeId'), port, 'member.port');
      if (typeof member.ip !== 'string' || isIP(member.ip) === 0) throw fail('member.ip', 'member.ip must be an IP address');
      const droplet = await dropletWithIp(member.ip);
      if (!droplet) throw fail('member.ip', 'member.ip is not an address of a droplet in this account; DigitalOcean balances droplets only');
      return attach(balancerId, droplet.id, port, 'member.port');
    },

    attachNode: async (balancerId, node, port) => attach(balancerId, dropletId(node?.id, 'node.id'), checkPort(port, 'port'), 'port'),

    async detachMember(balancerId, memberId) {
      await changeDroplets(balancerId, 'DELETE', [dropletId(memberId, 'memberId')]);
    },
  };
}
