/**
 * The Linode NodeBalancer driver (API v4). A NodeBalancer's first config (by id) is its port,
 * protocol and algorithm; members are that config's nodes, addressed `ip:port` on Linode's
 * private network (192.168.128.0/17). Listing NodeBalancers costs one call per page and does not
 * carry configs, so listed balancers have no port, protocol or algorithm; getBalancer reads them
 * (one more call).
 *
 * https://techdocs.akamai.com/linode-api/reference/nodebalancers
 */
import { isIPv4 } from 'node:net';
import { InvalidInputError, MalformedResponseError } from '../errors.ts';
import type { Connection } from '../http/connection.ts';
import { balancerChecks } from '../rest/balancer.ts';
import { scrubValues } from '../rest/errors.ts';
import { obj, str, type Json } from '../rest/json.ts';
import { LINODE_PAGES, listAll } from '../rest/paging.ts';
import type { CreateBalancerInput, LoadBalancerDriver, Member } from '../types.ts';
import { ALGORITHM_NAMES, firstConfig, isLinodePrivate, toBalancer, toMember } from './mappers.ts';

export interface LinodeLbOptions {
  provider: string;
  conn: () => Connection;
  pageSize: number;
  /** region of new NodeBalancers when createBalancer's ex.region is absent (options.region) */
  region: string | undefined;
}

/** https://techdocs.akamai.com/linode-api/reference/post-node-balancer-config (protocol) */
const PROTOCOLS = ['http', 'https', 'tcp'];
/** https://techdocs.akamai.com/linode-api/reference/post-node-balancer (label) */
const LABEL = /^[a-zA-Z0-9_-]{3,32}$/;
const EX_KEYS = ['region', 'sslCert', 'sslKey', 'clientConnThrottle', 'tags'];

export function linodeLoadBalancerDriver(opts: LinodeLbOptions): LoadBalancerDriver {
  const { provider, conn } = opts;
  const { algorithms, fail, checkPort, checkAlgorithm, checkProtocol, checkExKeys } = balancerChecks({
    provider, vendor: 'NodeBalancers', algorithms: ALGORITHM_NAMES, protocols: PROTOCOLS, exKeys: EX_KEYS, exOf: 'a NodeBalancer',
  });
  const pages = (path: string) => listAll(conn(), { provider, path, itemsKey: 'data', style: LINODE_PAGES, pageSize: opts.pageSize });

  const getNb = async (id: string): Promise<Json> => {
    // https://techdocs.akamai.com/linode-api/reference/get-node-balancer
    const res = await conn().request<Json>({ operation: 'GET /nodebalancers/{id}', path: `nodebalancers/${idPath(id, provider, 'id')}` });
    const nb = obj(res.body);
    if (!nb) throw new MalformedResponseError('GET /nodebalancers/{id} answered without a NodeBalancer', { provider });
    return nb;
  };
  // https://techdocs.akamai.com/linode-api/reference/get-node-balancer-configs
  const configs = (id: string) => pages(`nodebalancers/${idPath(id, provider, 'id')}/configs`);
  const getBalancer = async (id: string) => {
    const [nb, cfgs] = await Promise.all([getNb(id), configs(id)]);
    return toBalancer(nb, firstConfig(cfgs), provider);
  };
  const requireConfig = async (id: string): Promise<Json> => {
    const config = firstConfig(await configs(id));
    if (!config) throw fail('balancerId', 'the NodeBalancer has no config to add members to');
    return config;
  };

  const nodeBody = (ip: unknown, port: number, field: string): Json => {
    if (typeof ip !== 'string' || !isIPv4(ip)) throw fail(field, `${field} must be an IPv4 address (NodeBalancers reach Linodes on their private addresses)`);
    return { address: `${ip}:${port}`, label: `node-${ip.replace(/\./g, '-')}-${port}`.slice(0, 32), weight: 100, mode: 'accept' };
  };

  const addNode = async (balancerId: string, body: Json): Promise<Member> => {
    const config = await requireConfig(balancerId);
    const configId = str(config.id)!;
    // https://techdocs.akamai.com/linode-api/reference/post-node-balancer-node
    const res = await conn().request<Json>({
      operation: 'POST /nodebalancers/{id}/configs/{configId}/nodes',
      method: 'POST',
      path: `nodebalancers/${idPath(balancerId, provider, 'id')}/configs/${configId}/nodes`,
      json: body,
    });
    const node = obj(res.body);
    if (!node || str(node.id) === undefined) throw new MalformedResponseError('POST .../nodes answered without a node', { provider });
    return toMember(node, configId);
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...algorithms],

    async listBalancers() {
      // https://techdocs.akamai.com/linode-api/reference/get-node-balancers
      return (await pages('nodebalancers')).map((nb) => toBalancer(nb, undefined, provider));
    },

    getBalancer,

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = checkAlgorithm(input.algorithm);
      if (typeof input.name !== 'string' || !LABEL.test(input.name)) throw fail('name', 'name must be 3 to 32 letters, digits, dashes and underscores');
      const port = checkPort(input.port, 'port');
      const protocol = checkProtocol(input.protocol);
      const ex = input.ex ?? {};
      checkExKeys(ex);
      const region = ex.region ?? opts.region;
      if (typeof region !== 'string' || region === '') throw fail('ex.region', 'ex.region (or the account option region) must name the region of the NodeBalancer');
      const nodes = input.members.map((m, i) => nodeBody(m?.ip, checkPort(m?.port, `members[${i}].port`), `members[${i}].ip`));
      const config: Json = { port, protocol, algorithm, nodes };
      const secrets: string[] = [];
      if (protocol === 'https') {
        if (typeof ex.sslCert !== 'string' || typeof ex.sslKey !== 'string' || ex.sslCert === '' || ex.sslKey === '') throw fail('ex.sslCert', 'protocol https needs ex.sslCert and ex.sslKey (PEM)');
        Object.assign(config, { ssl_cert: ex.sslCert, ssl_key: ex.sslKey });
        secrets.push(ex.sslKey);
      }
      const body: Json = { label: input.name, region, configs: [config] };
      if (ex.clientConnThrottle !== undefined) {
        if (!Number.isInteger(ex.clientConnThrottle) || (ex.clientConnThrottle as number) < 0 || (ex.clientConnThrottle as number) > 20) throw fail('ex.clientConnThrottle', 'ex.clientConnThrottle must be an integer from 0 to 20');
        body.client_conn_throttle = ex.clientConnThrottle;
      }
      if (ex.tags !== undefined) {
        if (!Array.isArray(ex.tags) || !ex.tags.every((t) => typeof t === 'string' && t.length >= 3 && t.length <= 50)) throw fail('ex.tags', 'ex.tags must be a list of 3 to 50 character tags');
        body.tags = ex.tags;
      }
      let nb: Json | undefined;
      try {
        // https://techdocs.akamai.com/linode-api/reference/post-node-balancer
        const res = await conn().request<Json>({ operation: 'POST /nodebalancers', method: 'POST', path: 'nodebalancers', json: body });
        nb = obj(res.body);
      } catch (err) {
        // why: ssl_key is a private key under a name the connection does not know to be secret
        throw scrubValues(err, secrets);
      }
      const id = str(nb?.id);
      if (!nb || !id) throw new MalformedResponseError('POST /nodebalancers answered without a NodeBalancer', { provider });
      return toBalancer(nb, firstConfig(await configs(id)), provider);
    },

    async updateBalancer(id, patch) {
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || !LABEL.test(patch.name)) throw fail('name', 'name must be 3 to 32 letters, digits, dashes and underscores');
        // https://techdocs.akamai.com/linode-api/reference/put-node-balancer
        await conn().request({ operation: 'PUT /nodebalancers/{id}', method: 'PUT', path: `nodebalancers/${idPath(id, provider, 'id')}`, json: { label: patch.name } });
      }
      const change: Json = {};
      if (patch.port !== undefined) change.port = checkPort(patch.port, 'port');
      if (patch.algorithm !== undefined) change.algorithm = checkAlgorithm(patch.algorithm);
      if (patch.protocol !== undefined) {
        change.protocol = checkProtocol(patch.protocol);
        if (change.protocol === 'https') throw fail('protocol', 'switching to https needs a certificate: make a new NodeBalancer config with ssl_cert and ssl_key');
      }
      if (Object.keys(change).length) {
        const config = await requireConfig(id);
        // https://techdocs.akamai.com/linode-api/reference/put-node-balancer-config
        await conn().request({ operation: 'PUT /nodebalancers/{id}/configs/{configId}', method: 'PUT', path: `nodebalancers/${idPath(id, provider, 'id')}/configs/${str(config.id)}`, json: change });
      }
      return getBalancer(id);
    },

    async destroyBalancer(id) {
      // https://techdocs.akamai.com/linode-api/reference/delete-node-balancer
      await conn().request({ operation: 'DELETE /nodebalancers/{id}', method: 'DELETE', path: `nodebalancers/${idPath(id, provider, 'id')}`, responseType: 'none' });
    },

    async listMembers(balancerId) {
      const out: Member[] = [];
      for (const config of await configs(balancerId)) {
        const configId = str(config.id);
        if (!configId) continue;
        // https://techdocs.akamai.com/linode-api/reference/get-node-balancer-config-nodes
        const nodes = await pages(`nodebalancers/${idPath(balancerId, provider, 'id')}/configs/${idPath(configId, provider, 'configId')}/nodes`);
        out.push(...nodes.map((n) => toMember(n, configId)));
      }
      return out;
    },

    attachMember: async (balancerId, member) => addNode(balancerId, nodeBody(member?.ip, checkPort(member?.port, 'member.port'), 'member.ip')),

    async attachNode(balancerId, node, port) {
      const ip = node?.privateIps.find(isLinodePrivate);
      if (!ip) throw fail('node', 'the Linode has no private IPv4 address (192.168.128.0/17); NodeBalancers reach Linodes only there');
      const member = await addNode(balancerId, nodeBody(ip, checkPort(port, 'port'), 'node'));
      return { ...member, nodeId: node.id };
    },

    async detachMember(balancerId, memberId) {
      const m = typeof memberId === 'string' ? /^(\d{1,19}):(\d{1,19})$/.exec(memberId) : null;
      if (!m) throw fail('memberId', 'memberId must be <configId>:<nodeId>, as listMembers gives it');
      // https://techdocs.akamai.com/linode-api/reference/delete-node-balancer-config-node
      await conn().request({
        operation: 'DELETE /nodebalancers/{id}/configs/{configId}/nodes/{nodeId}',
        method: 'DELETE',
        path: `nodebalancers/${idPath(balancerId, provider, 'id')}/configs/${m[1]}/nodes/${m[2]}`,
        responseType: 'none',
      });
    },
  };
}

// --- Internal helpers ---

function idPath(id: string, provider: string, field: string): string {
  if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) throw new InvalidInputError(`${field} must be a NodeBalancer id (digits)`, { provider, field });
  return id;
}
