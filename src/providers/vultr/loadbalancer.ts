/**
 * The Vultr load-balancer driver (API v2). Members are attached instances, by id; every instance
 * takes traffic on the forwarding rules' backend port, so a member's port must be that port.
 * The first forwarding rule is the balancer's port and protocol. Vultr changes a balancer with a
 * PATCH of the fields given (instances as the whole list).
 *
 * https://www.vultr.com/api/#tag/load-balancer
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { balancerChecks } from '../rest/balancer.ts';
import { list, num, obj, strings, type Json } from '../rest/json.ts';
import { VULTR_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import type { CreateBalancerInput, LoadBalancerDriver, Member } from '../types.ts';
import { ALGORITHM_NAMES, toBalancer, toMembers, toNode } from './mappers.ts';

export interface VultrLbOptions {
  provider: string;
  conn: () => Connection;
  pageSize: number;
  /** region of new balancers when createBalancer's ex.region is absent (options.region) */
  region: string | undefined;
}

/** https://www.vultr.com/api/#tag/load-balancer/operation/create-load-balancer (forwarding_rules.frontend_protocol) */
const PROTOCOLS = ['http', 'https', 'tcp'];
const EX_KEYS = ['region', 'instanceIds', 'backendPort', 'backendProtocol', 'certificate', 'privateKey', 'sslRedirect', 'proxyProtocol'];

export function vultrLoadBalancerDriver(opts: VultrLbOptions): LoadBalancerDriver {
  const { provider, conn } = opts;
  const { algorithms, fail, checkPort, checkAlgorithm, checkProtocol, checkExKeys } = balancerChecks({
    provider, vendor: 'Vultr', algorithms: ALGORITHM_NAMES, protocols: PROTOCOLS, exKeys: EX_KEYS, exOf: 'a Vultr balancer',
  });
  const lbPath = (id: string) => idPath(id, provider, 'a load balancer');

  const getLb = async (id: string): Promise<Json> => {
    // https://www.vultr.com/api/#tag/load-balancer/operation/get-load-balancer
    const res = await conn().request<Json>({ operation: 'GET /load-balancers/{id}', path: `load-balancers/${lbPath(id)}` });
    const lb = obj(obj(res.body)?.load_balancer);
    if (!lb) throw new MalformedResponseError('GET /load-balancers/{id} answered without a load_balancer', { provider });
    return lb;
  };
  const patch = async (id: string, body: Json) => {
    // https://www.vultr.com/api/#tag/load-balancer/operation/update-load-balancer
    await conn().request({ operation: 'PATCH /load-balancers/{id}', method: 'PATCH', path: `load-balancers/${lbPath(id)}`, json: body, responseType: 'none', expect: [204, 200] });
  };

  const instanceId = (id: unknown, field: string): string => {
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) throw fail(field, `${field} must be an instance id`);
    return id;
  };
  const ruleBody = (r: Json) => ({ frontend_protocol: r.frontend_protocol, frontend_port: r.frontend_port, backend_protocol: r.backend_protocol, backend_port: r.backend_port });

  /** The instance holding an address; one paged listing. */
  const instanceWithIp = async (ip: string) => {
    // https://www.vultr.com/api/#tag/instances/operation/list-instances
    const instances = await listAll(conn(), { provider, path: 'instances', itemsKey: 'instances', style: VULTR_PAGES, pageSize: opts.pageSize });
    return instances.map((i) => toNode(i, provider)).find((n) => n.publicIps.includes(ip) || n.privateIps.includes(ip));
  };

  const attach = async (balancerId: string, id: string, port: number, field: string): Promise<Member> => {
    const lb = await getLb(balancerId);
    const backend = num(list(lb.forwarding_rules)[0]?.backend_port);
    if (backend !== undefined && port !== backend) throw fail(field, `Vultr sends to every instance on the forwarding rules' backend port (${backend})`);
    const current = strings(lb.instances);
    if (!current.includes(id)) await patch(balancerId, { instances: [...current, id] });
    return { id, ip: null, port, nodeId: id, extra: {} };
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...algorithms],

    async listBalancers() {
      // https://www.vultr.com/api/#tag/load-balancer/operation/list-load-balancers
      const lbs = await listAll(conn(), { provider, path: 'load-balancers', itemsKey: 'load_balancers', style: VULTR_PAGES, pageSize: opts.pageSize });
      return lbs.map((lb) => toBalancer(lb, provider));
    },

    getBalancer: async (id) => toBalancer(await getLb(id), provider),

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = checkAlgorithm(input.algorithm);
      if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 255) throw fail('name', 'name must be 1 to 255 characters');
      const port = checkPort(input.port, 'port');
      const protocol = checkProtocol(input.protocol);
      const ex = input.ex ?? {};
      checkExKeys(ex);
      const region = ex.region ?? opts.region;
      if (typeof region !== 'string' || region === '') throw fail('ex.region', 'ex.region (or the account option region) must name the region of the balancer');
      if (ex.instanceIds !== undefined && !Array.isArray(ex.instanceIds)) throw fail('ex.instanceIds', 'ex.instanceIds must be a list of instance ids');
      const instances = ((ex.instanceIds ?? []) as unknown[]).map((id, i) => instanceId(id, `ex.instanceIds[${i}]`));
      const ports = new Set(input.members.map((m, i) => checkPort(m?.port, `members[${i}].port`)));
      const backendPort = ex.backendPort === undefined ? ([...ports][0] ?? port) : checkPort(ex.backendPort, 'ex.backendPort');
      if ([...ports].some((p) => p !== backendPort)) throw fail('members', 'Vultr sends to every instance on one backend port: give members one port');
      for (const [i, m] of input.members.entries()) {
        if (typeof m.ip !== 'string' || isIP(m.ip) === 0) throw fail(`members[${i}].ip`, `members[${i}].ip must be an IP address`);
        const found = await instanceWithIp(m.ip);
        if (!found) throw fail(`members[${i}].ip`, `members[${i}].ip is not an address of an instance in this account; Vultr balances instances only`);
        instances.push(found.id);
      }
      const backendProtocol = ex.backendProtocol === undefined ? (protocol === 'https' ? 'http' : protocol) : checkProtocol(ex.backendProtocol, 'ex.backendProtocol');
      const body: Json = {
        region,
        label: input.name,
        balancing_algorithm: algorithm,
        forwarding_rules: [{ frontend_protocol: protocol, frontend_port: port, backend_protocol: backendProtocol, backend_port: backendPort }],
        instances: [...new Set(instances)],
      };
      if (protocol === 'https') {
        if (typeof ex.certificate !== 'string' || typeof ex.privateKey !== 'string' || ex.certificate === '' || ex.privateKey === '') throw fail('ex.certificate', 'protocol https needs ex.certificate and ex.privateKey (PEM)');
        body.ssl = { certificate: ex.certificate, private_key: ex.privateKey };
      }
      for (const [k, key] of [['sslRedirect', 'ssl_redirect'], ['proxyProtocol', 'proxy_protocol']] as const) {
        if (ex[k] === undefined) continue;
        if (typeof ex[k] !== 'boolean') throw fail(`ex.${k}`, `ex.${k} must be true or false`);
        body[key] = ex[k];
      }
      // https://www.vultr.com/api/#tag/load-balancer/operation/create-load-balancer
      const res = await conn().request<Json>({ operation: 'POST /load-balancers', method: 'POST', path: 'load-balancers', json: body, expect: [202, 201, 200] });
      const lb = obj(obj(res.body)?.load_balancer);
      if (!lb) throw new MalformedResponseError('POST /load-balancers answered without a load_balancer', { provider });
      return toBalancer(lb, provider);
    },

    async updateBalancer(id, change) {
      const body: Json = {};
      if (change.name !== undefined) {
        if (typeof change.name !== 'string' || change.name.trim() === '' || change.name.length > 255) throw fail('name', 'name must be 1 to 255 characters');
        body.label = change.name;
      }
      if (change.algorithm !== undefined) body.balancing_algorithm = checkAlgorithm(change.algorithm);
      const port = change.port !== undefined ? checkPort(change.port, 'port') : undefined;
      const protocol = change.protocol !== undefined ? checkProtocol(change.protocol) : undefined;
      if (protocol === 'https') throw fail('protocol', 'switching to https needs a certificate: create the balancer with ex.certificate and ex.privateKey');
      if (port !== undefined || protocol !== undefined) {
        const rules = list((await getLb(id)).forwarding_rules);
        if (!rules[0]) throw fail('port', 'the balancer has no forwarding rule to change');
        const first = { ...ruleBody(rules[0]), ...(port !== undefined ? { frontend_port: port } : {}), ...(protocol !== undefined ? { frontend_protocol: protocol, backend_protocol: protocol } : {}) };
        body.forwarding_rules = [first, ...rules.slice(1).map(ruleBody)];
      }
      if (Object.keys(body).length) await patch(id, body);
      return toBalancer(await getLb(id), provider);
    },

    async destroyBalancer(id) {
      // https://www.vultr.com/api/#tag/load-balancer/operation/delete-load-balancer
      await conn().request({ operation: 'DELETE /load-balancers/{id}', method: 'DELETE', path: `load-balancers/${lbPath(id)}`, responseType: 'none' });
    },

    listMembers: async (balancerId) => toMembers(await getLb(balancerId)),

    async attachMember(balancerId, member) {
      const port = checkPort(member?.port, 'member.port');
      if (member.nodeId !== undefined) return attach(balancerId, instanceId(member.nodeId, 'member.nodeId'), port, 'member.port');
      if (typeof member.ip !== 'string' || isIP(member.ip) === 0) throw fail('member.ip', 'member.ip must be an IP address');
      const found = await instanceWithIp(member.ip);
      if (!found) throw fail('member.ip', 'member.ip is not an address of an instance in this account; Vultr balances instances only');
      return attach(balancerId, found.id, port, 'member.port');
    },

    attachNode: async (balancerId, node, port) => attach(balancerId, instanceId(node?.id, 'node.id'), checkPort(port, 'port'), 'port'),

    async detachMember(balancerId, memberId) {
      const id = instanceId(memberId, 'memberId');
      const current = strings((await getLb(balancerId)).instances);
      if (!current.includes(id)) return;
      await patch(balancerId, { instances: current.filter((x) => x !== id) });
    },
  };
}
