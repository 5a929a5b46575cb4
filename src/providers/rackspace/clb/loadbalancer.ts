/**
 * The Rackspace Cloud Load Balancers (API v1.0) driver for one (account, region). Nodes are
 * members. A balancer refuses changes (422, "considered immutable") while it is BUILD or
 * PENDING_UPDATE, so every change first waits, with a bounded deadline, for it to be ACTIVE.
 *
 * https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/
 */
import { isIP } from 'node:net';
import { InvalidInputError, MalformedResponseError, NotFoundError, ProviderError, TimeoutError } from '../../errors.ts';
import type { Connection } from '../../http/connection.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { Algorithm, BalancerState, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Member } from '../../types.ts';
import { novaNext, paginate } from '../../openstack/nova/api.ts';
import { sleep as callSleep } from '../../call-scope.ts';

export const DRIVER_NAME = 'rackspace-clb';

/** why: CLB has these five by the same names; it has no source-IP hashing, so SOURCE_IP is rejected */
const ALGORITHMS: readonly Algorithm[] = ['RANDOM', 'ROUND_ROBIN', 'LEAST_CONNECTIONS', 'WEIGHTED_ROUND_ROBIN', 'WEIGHTED_LEAST_CONNECTIONS'];

// https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers (status)
export const BALANCER_STATE: Readonly<Record<string, BalancerState>> = {
  ACTIVE: 'running',
  BUILD: 'pending',
  PENDING_UPDATE: 'pending',
  PENDING_DELETE: 'pending',
  SUSPENDED: 'error',
  ERROR: 'error',
  DELETED: 'deleted',
};

/** Waiting and paging. */
export interface ClbOptions {
  /** between polls while waiting for ACTIVE (default 2000) */
  pollIntervalMs?: number;
  /** the most one wait for ACTIVE lasts (default 600000) */
  waitTimeoutMs?: number;
  /** balancers asked per page (default 100) */
  pageSize?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

export function clbLoadBalancerDriver(conn: () => Promise<Connection>, opts: ClbOptions = {}): LoadBalancerDriver {
  const pollMs = opts.pollIntervalMs ?? 2000;
  const waitMs = opts.waitTimeoutMs ?? 600_000;
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = opts.sleep ?? callSleep;
  const now = opts.now ?? (() => new Date());
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider: DRIVER_NAME, field });
  let protocols: Promise<Json[]> | undefined;

  const request = async (operation: string, o: { method?: string; path: string; json?: unknown }): Promise<Json> => {
    const c = await conn();
    const res = await c.request<Json>({ operation, ...o, responseType: o.method === 'DELETE' ? 'none' : 'json' });
    return obj(res.body) ?? {};
  };
  const balancerOf = (body: Json, operation: string): Json => {
    const lb = obj(body.loadBalancer);
    if (!lb || str(lb.id) === undefined) throw new MalformedResponseError(`${operation} answered without a loadBalancer`, { provider: DRIVER_NAME });
    return lb;
  };
  // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#show-load-balancer-details
  const getLb = async (id: string) => balancerOf(await request('GET /loadbalancers/{id}', { path: `loadbalancers/${lbPath(id)}` }), 'GET /loadbalancers/{id}');

  /** Polls until the balancer accepts changes; `allowError` lets a delete go ahead on an ERROR balancer. */
  const waitMutable = async (id: string, allowError = false): Promise<Json> => {
    const deadline = now().getTime() + waitMs;
    for (;;) {
      const lb = await getLb(id);
      const status = str(lb.status);
      if (status === 'ACTIVE' || (allowError && (status === 'ERROR' || status === 'SUSPENDED'))) return lb;
      if (status === 'DELETED' || status === 'PENDING_DELETE') throw new NotFoundError(`load balancer ${id} is deleted`, { provider: DRIVER_NAME });
      if (status === 'ERROR' || status === 'SUSPENDED') throw new ProviderError(`load balancer ${id} is ${status}`, { provider: DRIVER_NAME });
      if (now().getTime() >= deadline) throw new TimeoutError(`load balancer ${id} still ${status ?? 'unknown'} after ${waitMs} ms`, { provider: DRIVER_NAME });
      await sleep(pollMs);
    }
  };

  const listProtocolObjects = () =>
    (protocols ??= (async () => {
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/protocols
      const body = await request('GET /loadbalancers/protocols', { path: 'loadbalancers/protocols' });
      if (!Array.isArray(body.protocols)) throw new MalformedResponseError('GET /loadbalancers/protocols answered without protocols', { provider: DRIVER_NAME });
      return list(body.protocols);
    })().catch((err: unknown) => ((protocols = undefined), Promise.reject(err))));

  const checkAlgorithm = (algorithm: unknown): Algorithm => {
    if (typeof algorithm !== 'string' || !ALGORITHMS.includes(algorithm as Algorithm)) {
      throw fail('algorithm', `algorithm ${String(algorithm)} is not supported by Cloud Load Balancers (supported: ${ALGORITHMS.join(', ')})`);
    }
    return algorithm as Algorithm;
  };
  const resolveProtocol = async (protocol: unknown): Promise<string> => {
    const wanted = typeof protocol === 'string' ? protocol.toLowerCase() : '';
    const names = (await listProtocolObjects()).map((p) => str(p.name)).filter((n): n is string => n !== undefined);
    const found = names.find((n) => n.toLowerCase() === wanted);
    if (!found) throw fail('protocol', `protocol must be one of ${names.map((n) => n.toLowerCase()).join(', ')}`);
    return found;
  };
  const checkPort = (port: unknown, field: string) => {
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw fail(field, `${field} must be an integer from 1 to 65535`);
  };
  const checkMember = (m: { ip: string; port: number }, field: string) => {
    if (typeof m?.ip !== 'string' || isIP(m.ip) === 0) throw fail(`${field}.ip`, `${field}.ip must be an IP address`);
    checkPort(m.port, `${field}.port`);
  };

  return {
    listProtocols: async () => (await listProtocolObjects()).map((p) => str(p.name)?.toLowerCase()).filter((n): n is string => n !== undefined),

    // why: static capability data; no upstream call
    listAlgorithms: () => [...ALGORITHMS],

    async listBalancers() {
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#list-load-balancers
      const lbs = await paginate(await conn(), DRIVER_NAME, 'loadbalancers', { limit: opts.pageSize ?? 100 }, 'loadBalancers', novaNext('links'));
      return lbs.filter((lb) => str(lb.id) !== undefined).map(toBalancer);
    },

    getBalancer: async (id) => toBalancer(await getLb(id)),

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = checkAlgorithm(input.algorithm);
      if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 128) throw fail('name', 'name must be 1 to 128 characters');
      checkPort(input.port, 'port');
      input.members.forEach((m, i) => checkMember(m, `members[${i}]`));
      const ex = input.ex ?? {};
      const vipType = ex.vipType ?? 'PUBLIC';
      if (vipType !== 'PUBLIC' && vipType !== 'SERVICENET') throw fail('ex.vipType', 'ex.vipType must be PUBLIC or SERVICENET');
      const protocol = await resolveProtocol(input.protocol);
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#create-load-balancer
      const body = await request('POST /loadbalancers', {
        method: 'POST',
        path: 'loadbalancers',
        json: {
          loadBalancer: {
            name: input.name,
            port: input.port,
            protocol,
            algorithm,
            virtualIps: [{ type: vipType }],
            ...(input.members.length ? { nodes: input.members.map((m) => ({ address: m.ip, port: m.port, condition: 'ENABLED' })) } : {}),
          },
        },
      });
      return toBalancer(balancerOf(body, 'POST /loadbalancers'));
    },

    async updateBalancer(id, patch) {
      const change: Json = {};
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name.trim() === '' || patch.name.length > 128) throw fail('name', 'name must be 1 to 128 characters');
        change.name = patch.name;
      }
      if (patch.port !== undefined) {
        checkPort(patch.port, 'port');
        change.port = patch.port;
      }
      if (patch.algorithm !== undefined) change.algorithm = checkAlgorithm(patch.algorithm);
      if (patch.protocol !== undefined) change.protocol = await resolveProtocol(patch.protocol);
      if (Object.keys(change).length === 0) return toBalancer(await getLb(id));
      await waitMutable(id);
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#update-load-balancer-attributes
      await request('PUT /loadbalancers/{id}', { method: 'PUT', path: `loadbalancers/${lbPath(id)}`, json: { loadBalancer: change } });
      return toBalancer(await getLb(id));
    },

    async destroyBalancer(id) {
      await waitMutable(id, true);
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/load-balancers#remove-load-balancer
      await request('DELETE /loadbalancers/{id}', { method: 'DELETE', path: `loadbalancers/${lbPath(id)}` });
    },

    async listMembers(balancerId) {
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/nodes#list-nodes
      const body = await request('GET /loadbalancers/{id}/nodes', { path: `loadbalancers/${lbPath(balancerId)}/nodes` });
      if (!Array.isArray(body.nodes)) throw new MalformedResponseError('GET /loadbalancers/{id}/nodes answered without nodes', { provider: DRIVER_NAME });
      return list(body.nodes).map(toMember);
    },

    async attachMember(balancerId, member) {
      checkMember(member, 'member');
      await waitMutable(balancerId);
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/nodes#add-nodes
      const body = await request('POST /loadbalancers/{id}/nodes', {
        method: 'POST',
        path: `loadbalancers/${lbPath(balancerId)}/nodes`,
        json: { nodes: [{ address: member.ip, port: member.port, condition: 'ENABLED', type: 'PRIMARY' }] },
      });
      const added = list(body.nodes).find((n) => n.address === member.ip && n.port === member.port);
      if (!added) throw new MalformedResponseError('POST /loadbalancers/{id}/nodes answered without the new node', { provider: DRIVER_NAME });
      return toMember(added);
    },

    async detachMember(balancerId, memberId) {
      if (typeof memberId !== 'string' || !/^\d+$/.test(memberId)) throw fail('memberId', 'memberId must be a node id');
      await waitMutable(balancerId);
      // https://docs.rackspace.com/docs/cloud-load-balancers/v1/api-reference/nodes#remove-node
      await request('DELETE /loadbalancers/{id}/nodes/{nodeId}', { method: 'DELETE', path: `loadbalancers/${lbPath(balancerId)}/nodes/${memberId}` });
    },
  };
}

export function toBalancer(lb: Json): LoadBalancer {
  const vips = list(lb.virtualIps);
  const vip =
    vips.find((v) => v.type === 'PUBLIC' && v.ipVersion === 'IPV4') ?? vips.find((v) => v.type === 'PUBLIC') ?? vips[0];
  const address = str(vip?.address);
  const algorithm = str(lb.algorithm);
  return {
    id: str(lb.id)!,
    name: str(lb.name) ?? '',
    state: BALANCER_STATE[str(lb.status) ?? ''] ?? 'unknown',
    ip: address && isIP(address) ? address : null,
    port: typeof lb.port === 'number' ? lb.port : null,
    protocol: str(lb.protocol)?.toLowerCase() ?? null,
    algorithm: algorithm && ALGORITHMS.includes(algorithm as Algorithm) ? (algorithm as Algorithm) : null,
    extra: {
      status: str(lb.status) ?? null,
      virtualIps: vips.map((v) => ({ id: str(v.id) ?? null, address: str(v.address) ?? null, type: str(v.type) ?? null, ipVersion: str(v.ipVersion) ?? null })),
      nodeCount: typeof lb.nodeCount === 'number' ? lb.nodeCount : Array.isArray(lb.nodes) ? lb.nodes.length : null,
      timeout: typeof lb.timeout === 'number' ? lb.timeout : null,
      halfClosed: typeof lb.halfClosed === 'boolean' ? lb.halfClosed : null,
      cluster: str(obj(lb.cluster)?.name) ?? null,
      connectionLogging: obj(lb.connectionLogging)?.enabled === true,
      createdAt: str(obj(lb.created)?.time) ?? null,
      updatedAt: str(obj(lb.updated)?.time) ?? null,
    },
  };
}

function toMember(n: Json): Member {
  return {
    id: str(n.id) ?? '',
    ip: str(n.address) ?? null,
    port: typeof n.port === 'number' ? n.port : null,
    nodeId: null,
    extra: {
      condition: str(n.condition) ?? null,
      status: str(n.status) ?? null,
      weight: typeof n.weight === 'number' ? n.weight : null,
      type: str(n.type) ?? null,
    },
  };
}

// --- Internal helpers ---

function lbPath(id: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 64) throw new InvalidInputError('id must be a load balancer id', { provider: DRIVER_NAME, field: 'id' });
  return encodeURIComponent(id);
}
