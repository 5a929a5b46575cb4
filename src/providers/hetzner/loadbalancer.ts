/**
 * The Hetzner Cloud load-balancer driver (API v1). Members are targets: a server (by id) or an
 * IP address; a service maps a listen port and protocol to the destination port every target
 * takes traffic on, so a member's port must be that port. The first service is the balancer's
 * port and protocol. Every change is an action the driver waits for.
 *
 * https://docs.hetzner.cloud/reference/cloud#load-balancers
 */
import { isIP } from 'node:net';
import { MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { balancerChecks } from '../rest/balancer.ts';
import { list, num, obj, str, type Json } from '../rest/json.ts';
import { HETZNER_PAGES, listAll } from '../rest/paging.ts';
import { idPath } from '../rest/paths.ts';
import type { CreateBalancerInput, LoadBalancerDriver, Member } from '../types.ts';
import type { HetznerActions } from './actions.ts';
import { checkLabels } from './compute.ts';
import { ALGORITHM_NAMES, toBalancer, toMembers } from './mappers.ts';

export interface HetznerLbOptions {
  provider: string;
  conn: () => Connection;
  pageSize: number;
  actions: HetznerActions;
  /** location of new balancers when createBalancer's ex.location is absent (options.location) */
  location: string | undefined;
  /** load balancer type of new balancers (options.loadBalancerType, default lb11) */
  loadBalancerType: string;
}

/** https://docs.hetzner.cloud/reference/cloud#load-balancers-create-a-load-balancer (services.protocol) */
const PROTOCOLS = ['tcp', 'http', 'https'];
const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,126}[a-zA-Z0-9])?$/;
const EX_KEYS = ['location', 'networkZone', 'serverIds', 'destinationPort', 'usePrivateIp', 'certificateIds', 'labels', 'loadBalancerType'];

export function hetznerLoadBalancerDriver(opts: HetznerLbOptions): LoadBalancerDriver {
  const { provider, conn, actions } = opts;
  const { algorithms, fail, checkPort, checkAlgorithm, checkProtocol, checkExKeys } = balancerChecks({
    provider, vendor: 'Hetzner', algorithms: ALGORITHM_NAMES, protocols: PROTOCOLS, exKeys: EX_KEYS, exOf: 'a Hetzner balancer',
  });
  const lbPath = (id: string) => idPath(id, provider, 'a load balancer');

  const getLb = async (id: string): Promise<Json> => {
    // https://docs.hetzner.cloud/reference/cloud#load-balancers-get-a-load-balancer
    const res = await conn().request<Json>({ operation: 'GET /load_balancers/{id}', path: `load_balancers/${lbPath(id)}` });
    const lb = obj(obj(res.body)?.load_balancer);
    if (!lb) throw new MalformedResponseError('GET /load_balancers/{id} answered without a load_balancer', { provider });
    return lb;
  };
  // https://docs.hetzner.cloud/reference/cloud#load-balancer-actions
  const act = async (id: string, name: string, body: unknown) => actions.run(`POST /load_balancers/{id}/actions/${name}`, `load_balancers/${lbPath(id)}/actions/${name}`, body);

  const numericId = (id: unknown, field: string, what: string): number => {
    if (!(typeof id === 'string' && /^\d{1,15}$/.test(id)) && !Number.isInteger(id)) throw fail(field, `${field} must be ${what} id`);
    return Number(id);
  };
  const serverId = (id: unknown, field: string) => numericId(id, field, 'a server');
  const checkIp = (ip: unknown, field: string): string => {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw fail(field, `${field} must be an IP address`);
    return ip;
  };
  const destinationPort = (lb: Json) => num(list(lb.services)[0]?.destination_port);
  const memberPort = (lb: Json, port: number, field: string) => {
    const target = destinationPort(lb);
    if (target !== undefined && port !== target) throw fail(field, `Hetzner sends to every target on the service's destination port (${target})`);
  };
  const serviceBody = (protocol: string, listenPort: number, destination: number, certificates: unknown[] | undefined): Json => ({
    protocol,
    listen_port: listenPort,
    destination_port: destination,
    proxyprotocol: false,
    ...(protocol === 'https' ? { http: { certificates } } : {}),
  });

  const attachTarget = async (balancerId: string, target: Json, port: number, field: string, member: Member): Promise<Member> => {
    memberPort(await getLb(balancerId), port, field);
    await act(balancerId, 'add_target', target);
    return member;
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...algorithms],

    async listBalancers() {
      // https://docs.hetzner.cloud/reference/cloud#load-balancers-list-load-balancers
      const lbs = await listAll(conn(), { provider, path: 'load_balancers', itemsKey: 'load_balancers', style: HETZNER_PAGES, pageSize: opts.pageSize });
      return lbs.map((lb) => toBalancer(lb, provider));
    },

    getBalancer: async (id) => toBalancer(await getLb(id), provider),

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = checkAlgorithm(input.algorithm);
      if (typeof input.name !== 'string' || !NAME.test(input.name)) throw fail('name', 'name must be 1 to 128 letters, digits, dots, dashes and underscores');
      const port = checkPort(input.port, 'port');
      const protocol = checkProtocol(input.protocol);
      const ex = input.ex ?? {};
      checkExKeys(ex);
      const location = ex.location ?? (ex.networkZone === undefined ? opts.location : undefined);
      if (location !== undefined && (typeof location !== 'string' || location === '')) throw fail('ex.location', 'ex.location must be a location name');
      if (ex.networkZone !== undefined && (typeof ex.networkZone !== 'string' || ex.networkZone === '')) throw fail('ex.networkZone', 'ex.networkZone must be a network zone name');
      if (location === undefined && ex.networkZone === undefined) throw fail('ex.location', 'ex.location (or ex.networkZone, or the account option location) must say where the balancer goes');
      const ports = new Set(input.members.map((m, i) => checkPort(m?.port, `members[${i}].port`)));
      const destination = ex.destinationPort === undefined ? ([...ports][0] ?? port) : checkPort(ex.destinationPort, 'ex.destinationPort');
      if ([...ports].some((p) => p !== destination)) throw fail('members', 'Hetzner sends to every target on one destination port: give members one port');
      if (ex.serverIds !== undefined && !Array.isArray(ex.serverIds)) throw fail('ex.serverIds', 'ex.serverIds must be a list of server ids');
      const usePrivateIp = ex.usePrivateIp === true;
      const targets: Json[] = [
        ...((ex.serverIds ?? []) as unknown[]).map((id, i) => ({ type: 'server', server: { id: serverId(id, `ex.serverIds[${i}]`) }, use_private_ip: usePrivateIp })),
        ...input.members.map((m, i) => ({ type: 'ip', ip: { ip: checkIp(m.ip, `members[${i}].ip`) } })),
      ];
      let certificates: unknown[] | undefined;
      if (protocol === 'https') {
        if (!Array.isArray(ex.certificateIds) || ex.certificateIds.length === 0) throw fail('ex.certificateIds', 'protocol https needs ex.certificateIds (certificate ids)');
        certificates = ex.certificateIds.map((c, i) => numericId(c, `ex.certificateIds[${i}]`, 'a certificate'));
      }
      const type = ex.loadBalancerType ?? opts.loadBalancerType;
      if (typeof type !== 'string' || type === '') throw fail('ex.loadBalancerType', 'ex.loadBalancerType must be a load balancer type name');
      const labels = checkLabels(ex.labels as Record<string, string> | undefined, provider, 'ex.labels');
      const body: Json = {
        name: input.name,
        load_balancer_type: type,
        algorithm: { type: algorithm },
        ...(location !== undefined ? { location } : { network_zone: ex.networkZone }),
        services: [serviceBody(protocol, port, destination, certificates)],
        targets,
        public_interface: true,
        ...(labels && Object.keys(labels).length ? { labels } : {}),
      };
      // https://docs.hetzner.cloud/reference/cloud#load-balancers-create-a-load-balancer
      const res = await conn().request<Json>({ operation: 'POST /load_balancers', method: 'POST', path: 'load_balancers', json: body, expect: [201, 200] });
      const answer = obj(res.body);
      const lb = obj(answer?.load_balancer);
      if (!lb) throw new MalformedResponseError('POST /load_balancers answered without a load_balancer', { provider });
      await actions.settle(answer?.action, 'POST /load_balancers');
      return toBalancer(await getLb(str(lb.id) ?? ''), provider);
    },

    async updateBalancer(id, patch) {
      if (patch.name !== undefined && (typeof patch.name !== 'string' || !NAME.test(patch.name))) throw fail('name', 'name must be 1 to 128 letters, digits, dots, dashes and underscores');
      const algorithm = patch.algorithm !== undefined ? checkAlgorithm(patch.algorithm) : undefined;
      const port = patch.port !== undefined ? checkPort(patch.port, 'port') : undefined;
      const protocol = patch.protocol !== undefined ? checkProtocol(patch.protocol) : undefined;
      let lb = await getLb(id);
      const first = list(lb.services)[0];
      if ((port !== undefined || protocol !== undefined) && !first) throw fail('port', 'the balancer has no service to change');
      if (protocol === 'https' && first?.protocol !== 'https') throw fail('protocol', 'switching to https needs certificates: add an https service with them');
      if (patch.name !== undefined) {
        // https://docs.hetzner.cloud/reference/cloud#load-balancers-update-a-load-balancer
        await conn().request({ operation: 'PUT /load_balancers/{id}', method: 'PUT', path: `load_balancers/${lbPath(id)}`, json: { name: patch.name } });
      }
      if (algorithm !== undefined) await act(id, 'change_algorithm', { type: algorithm });
      if (first && protocol !== undefined && protocol !== first.protocol) {
        await act(id, 'update_service', { listen_port: first.listen_port, protocol });
      }
      if (first && port !== undefined && port !== first.listen_port) {
        // why: a service is known by its listen port, which update_service cannot change: add the new one, then drop the old
        const moved: Json = { ...first, listen_port: port, ...(protocol !== undefined ? { protocol } : {}) };
        delete moved.status;
        await act(id, 'add_service', moved);
        await act(id, 'delete_service', { listen_port: first.listen_port });
      }
      lb = await getLb(id);
      return toBalancer(lb, provider);
    },

    async destroyBalancer(id) {
      // https://docs.hetzner.cloud/reference/cloud#load-balancers-delete-a-load-balancer
      await conn().request({ operation: 'DELETE /load_balancers/{id}', method: 'DELETE', path: `load_balancers/${lbPath(id)}`, responseType: 'none' });
    },

    listMembers: async (balancerId) => toMembers(await getLb(balancerId)),

    async attachMember(balancerId, member) {
      const port = checkPort(member?.port, 'member.port');
      if (member.nodeId !== undefined) {
        const sid = serverId(member.nodeId, 'member.nodeId');
        return attachTarget(balancerId, { type: 'server', server: { id: sid }, use_private_ip: false }, port, 'member.port', { id: String(sid), ip: null, port, nodeId: String(sid), extra: { type: 'server' } });
      }
      const ip = checkIp(member.ip, 'member.ip');
      return attachTarget(balancerId, { type: 'ip', ip: { ip } }, port, 'member.port', { id: ip, ip, port, nodeId: null, extra: { type: 'ip' } });
    },

    async attachNode(balancerId, node, port) {
      const sid = serverId(node?.id, 'node.id');
      const p = checkPort(port, 'port');
      return attachTarget(balancerId, { type: 'server', server: { id: sid }, use_private_ip: false }, p, 'port', { id: String(sid), ip: null, port: p, nodeId: String(sid), extra: { type: 'server' } });
    },

    async detachMember(balancerId, memberId) {
      let target: Json;
      if (typeof memberId === 'string' && /^\d{1,15}$/.test(memberId)) target = { type: 'server', server: { id: Number(memberId) } };
      else if (typeof memberId === 'string' && isIP(memberId)) target = { type: 'ip', ip: { ip: memberId } };
      else if (typeof memberId === 'string' && memberId.startsWith('label_selector=') && memberId.length > 15) target = { type: 'label_selector', label_selector: { selector: memberId.slice(15) } };
      else throw fail('memberId', 'memberId must be a server id, an IP address or label_selector=<selector>');
      await act(balancerId, 'remove_target', target);
    },
  };
}
