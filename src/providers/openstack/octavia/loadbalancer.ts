/**
 * The Octavia v2 load-balancer driver for one (account, region). A skygraph balancer is an
 * Octavia load balancer with its first listener (port, protocol) and that listener's pool
 * (algorithm, members). Octavia works asynchronously: every change puts the load balancer in
 * PENDING_* and it refuses the next change until it is ACTIVE again, so dependent calls wait for
 * ACTIVE, polling with a bounded deadline.
 *
 * https://docs.openstack.org/api-ref/load-balancer/v2/
 */
import { isIP } from 'node:net';
import { InvalidInputError, MalformedResponseError, NotFoundError, ProviderError, TimeoutError } from '../../errors.ts';
import type { Connection } from '../../http/connection.ts';
import { list, obj, str, type Json } from '../../rest/json.ts';
import type { Algorithm, BalancerState, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Logger, Member } from '../../types.ts';
import { novaNext, paginate } from '../nova/api.ts';
import { sleep as callSleep } from '../../call-scope.ts';

export const DRIVER_NAME = 'octavia';

/** Listener protocol -> the pool protocol behind it. */
const PROTOCOLS: Readonly<Record<string, string>> = { http: 'HTTP', https: 'HTTPS', tcp: 'TCP', udp: 'UDP', terminated_https: 'HTTP', sctp: 'SCTP' };
const LISTENER_PROTOCOL: Readonly<Record<string, string>> = { http: 'HTTP', https: 'HTTPS', tcp: 'TCP', udp: 'UDP', terminated_https: 'TERMINATED_HTTPS', sctp: 'SCTP' };
/** why: Octavia's ROUND_ROBIN honours weights, but it has no RANDOM or separate weighted algorithms; those are rejected */
const ALGORITHM_TO_OCTAVIA: Readonly<Partial<Record<Algorithm, string>>> = { ROUND_ROBIN: 'ROUND_ROBIN', LEAST_CONNECTIONS: 'LEAST_CONNECTIONS', SOURCE_IP: 'SOURCE_IP' };
const OCTAVIA_TO_ALGORITHM: Readonly<Record<string, Algorithm>> = { ROUND_ROBIN: 'ROUND_ROBIN', LEAST_CONNECTIONS: 'LEAST_CONNECTIONS', SOURCE_IP: 'SOURCE_IP' };

// https://docs.openstack.org/api-ref/load-balancer/v2/#provisioning-status-codes
const PROVISIONING_STATE: Readonly<Record<string, BalancerState>> = {
  PENDING_CREATE: 'pending',
  PENDING_UPDATE: 'pending',
  PENDING_DELETE: 'pending',
  ERROR: 'error',
  DELETED: 'deleted',
};
// https://docs.openstack.org/api-ref/load-balancer/v2/#operating-status-codes
const OPERATING_STATE: Readonly<Record<string, BalancerState>> = {
  ONLINE: 'running',
  DEGRADED: 'running',
  DRAINING: 'running',
  NO_MONITOR: 'running',
  ERROR: 'error',
  OFFLINE: 'unknown',
};

/** Account-level defaults and waiting. */
export interface OctaviaOptions {
  /** default for createBalancer's ex.vipSubnetId */
  vipSubnetId?: string | undefined;
  /** subnet members are reached on; default the VIP subnet */
  memberSubnetId?: string | undefined;
  /** between polls while waiting for ACTIVE (default 2000) */
  pollIntervalMs?: number;
  /** the most one wait for ACTIVE lasts (default 600000) */
  waitTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

export function octaviaProvisioningState(provisioning: unknown, operating: unknown): BalancerState {
  const p = typeof provisioning === 'string' ? provisioning : '';
  if (p === 'ACTIVE') return OPERATING_STATE[typeof operating === 'string' ? operating : ''] ?? 'unknown';
  return PROVISIONING_STATE[p] ?? 'unknown';
}

export function octaviaLoadBalancerDriver(conn: () => Promise<Connection>, opts: OctaviaOptions, logger: Logger): LoadBalancerDriver {
  const pollMs = opts.pollIntervalMs ?? 2000;
  const waitMs = opts.waitTimeoutMs ?? 600_000;
  // why: the call's deadline ends the wait (src/providers/call-scope.ts)
  const sleep = opts.sleep ?? callSleep;
  const now = opts.now ?? (() => new Date());
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider: DRIVER_NAME, field });

  const request = async (operation: string, o: { method?: string; path: string; json?: unknown; query?: Record<string, string> }): Promise<Json> => {
    const c = await conn();
    const res = await c.request<Json>({ operation, ...o, responseType: o.method === 'DELETE' ? 'none' : 'json' });
    return obj(res.body) ?? {};
  };
  const one = (body: Json, key: string, operation: string): Json => {
    const v = obj(body[key]);
    if (!v || !str(v.id)) throw new MalformedResponseError(`${operation} answered without a ${key}`, { provider: DRIVER_NAME });
    return v;
  };
  const all = async (path: string, key: string, query: Record<string, string> = {}) => paginate(await conn(), DRIVER_NAME, path, query, key, novaNext(`${key}_links`));

  // https://docs.openstack.org/api-ref/load-balancer/v2/#show-load-balancer-details
  const getLb = async (id: string) => one(await request('GET /v2/lbaas/loadbalancers/{id}', { path: `v2/lbaas/loadbalancers/${lbId(id)}` }), 'loadbalancer', 'GET /v2/lbaas/loadbalancers/{id}');

  /** Polls until the load balancer accepts changes again. */
  const waitActive = async (id: string): Promise<Json> => {
    const deadline = now().getTime() + waitMs;
    for (;;) {
      const lb = await getLb(id);
      const status = str(lb.provisioning_status);
      if (status === 'ACTIVE') return lb;
      if (status === 'ERROR') throw new ProviderError(`load balancer ${id} is in provisioning status ERROR`, { provider: DRIVER_NAME });
      if (status === 'DELETED') throw new NotFoundError(`load balancer ${id} was deleted`, { provider: DRIVER_NAME });
      if (now().getTime() >= deadline) throw new TimeoutError(`load balancer ${id} still ${status ?? 'unknown'} after ${waitMs} ms`, { provider: DRIVER_NAME });
      await sleep(pollMs);
    }
  };

  const childrenOf = async (id: string) => {
    const [listeners, pools] = await Promise.all([all('v2/lbaas/listeners', 'listeners', { loadbalancer_id: id }), all('v2/lbaas/pools', 'pools', { loadbalancer_id: id })]);
    return { listeners, pools };
  };
  const primaryPool = (lb: Json, listeners: Json[], pools: Json[]): Json | undefined => {
    const listener = primaryListener(lb, listeners);
    const defaultPool = str(listener?.default_pool_id);
    return pools.find((p) => str(p.id) === defaultPool) ?? pools.find((p) => belongsTo(p, str(lb.id)));
  };
  const getBalancer = async (id: string): Promise<LoadBalancer> => {
    const lb = await getLb(id);
    const { listeners, pools } = await childrenOf(id);
    return toBalancer(lb, listeners, pools);
  };

  const toMember = (m: Json, poolId: string): Member => ({
    id: str(m.id) ?? '',
    ip: str(m.address) ?? null,
    port: typeof m.protocol_port === 'number' ? m.protocol_port : null,
    nodeId: null,
    extra: {
      poolId,
      name: str(m.name) ?? null,
      subnetId: str(m.subnet_id) ?? null,
      weight: typeof m.weight === 'number' ? m.weight : null,
      provisioningStatus: str(m.provisioning_status) ?? null,
      operatingStatus: str(m.operating_status) ?? null,
      backup: m.backup === true,
    },
  });
  const poolFor = async (balancerId: string): Promise<{ lb: Json; pool: Json | undefined }> => {
    const lb = await getLb(balancerId);
    const { listeners, pools } = await childrenOf(balancerId);
    return { lb, pool: primaryPool(lb, listeners, pools) };
  };
  const addMember = async (poolId: string, subnetId: string | undefined, m: { ip: string; port: number }) => {
    // https://docs.openstack.org/api-ref/load-balancer/v2/#create-member
    const body = await request('POST /v2/lbaas/pools/{id}/members', {
      method: 'POST',
      path: `v2/lbaas/pools/${encodeURIComponent(poolId)}/members`,
      json: { member: { address: m.ip, protocol_port: m.port, ...(subnetId ? { subnet_id: subnetId } : {}) } },
    });
    return one(body, 'member', 'POST /v2/lbaas/pools/{id}/members');
  };

  return {
    listProtocols: async () => Object.keys(PROTOCOLS),

    // why: static capability data; no upstream call
    listAlgorithms: () => Object.keys(ALGORITHM_TO_OCTAVIA) as Algorithm[],

    async listBalancers() {
      // https://docs.openstack.org/api-ref/load-balancer/v2/#list-load-balancers
      const [lbs, listeners, pools] = await Promise.all([all('v2/lbaas/loadbalancers', 'loadbalancers'), all('v2/lbaas/listeners', 'listeners'), all('v2/lbaas/pools', 'pools')]);
      return lbs.filter((lb) => str(lb.id)).map((lb) => toBalancer(lb, listeners, pools));
    },

    getBalancer,

    async createBalancer(input: CreateBalancerInput) {
      const algorithm = typeof input.algorithm === 'string' ? ALGORITHM_TO_OCTAVIA[input.algorithm] : undefined;
      if (!algorithm) throw fail('algorithm', `algorithm ${String(input.algorithm)} is not supported by Octavia (supported: ${Object.keys(ALGORITHM_TO_OCTAVIA).join(', ')})`);
      const protocolKey = typeof input.protocol === 'string' ? input.protocol.toLowerCase() : '';
      if (!Object.hasOwn(PROTOCOLS, protocolKey)) throw fail('protocol', `protocol must be one of ${Object.keys(PROTOCOLS).join(', ')}`);
      if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw fail('port', 'port must be an integer from 1 to 65535');
      if (typeof input.name !== 'string' || input.name.length > 255) throw fail('name', 'name must be at most 255 characters');
      const ex = input.ex ?? {};
      const vipSubnetId = typeof ex.vipSubnetId === 'string' && ex.vipSubnetId !== '' ? ex.vipSubnetId : opts.vipSubnetId;
      if (!vipSubnetId) throw fail('ex.vipSubnetId', 'ex.vipSubnetId (or options.vipSubnetId) is required: the subnet the VIP is allocated on');
      input.members.forEach((m, i) => checkMember(m, `members[${i}]`));

      // https://docs.openstack.org/api-ref/load-balancer/v2/#create-a-load-balancer
      const lb = one(
        await request('POST /v2/lbaas/loadbalancers', { method: 'POST', path: 'v2/lbaas/loadbalancers', json: { loadbalancer: { name: input.name, vip_subnet_id: vipSubnetId, admin_state_up: true } } }),
        'loadbalancer',
        'POST /v2/lbaas/loadbalancers',
      );
      const id = str(lb.id)!;
      try {
        await waitActive(id);
        // https://docs.openstack.org/api-ref/load-balancer/v2/#create-listener
        const listener = one(
          await request('POST /v2/lbaas/listeners', {
            method: 'POST',
            path: 'v2/lbaas/listeners',
            json: { listener: { name: input.name, protocol: LISTENER_PROTOCOL[protocolKey], protocol_port: input.port, loadbalancer_id: id } },
          }),
          'listener',
          'POST /v2/lbaas/listeners',
        );
        await waitActive(id);
        // https://docs.openstack.org/api-ref/load-balancer/v2/#create-pool
        const pool = one(
          await request('POST /v2/lbaas/pools', {
            method: 'POST',
            path: 'v2/lbaas/pools',
            json: { pool: { name: input.name, protocol: PROTOCOLS[protocolKey], lb_algorithm: algorithm, listener_id: str(listener.id) } },
          }),
          'pool',
          'POST /v2/lbaas/pools',
        );
        const memberSubnet = opts.memberSubnetId ?? vipSubnetId;
        for (const m of input.members) {
          await waitActive(id);
          await addMember(str(pool.id)!, memberSubnet, m);
        }
      } catch (err) {
        // why: a half-built balancer would otherwise be left behind, billed and unnamed in any error
        logger.warn('octavia: createBalancer failed part-way; deleting the load balancer', { balancerId: id });
        await waitActive(id)
          .then(() => request('DELETE /v2/lbaas/loadbalancers/{id}', { method: 'DELETE', path: `v2/lbaas/loadbalancers/${lbId(id)}`, query: { cascade: 'true' } }))
          .catch((cleanupErr: unknown) => logger.warn('octavia: cleanup after a failed create failed', { balancerId: id, error: String(cleanupErr) }));
        throw err;
      }
      return getBalancer(id);
    },

    async destroyBalancer(id) {
      await waitActive(id).catch((err: unknown) => {
        // why: a balancer in ERROR can still be deleted; only "gone" and timeouts stop us
        if (!(err instanceof ProviderError)) throw err;
      });
      // https://docs.openstack.org/api-ref/load-balancer/v2/#remove-a-load-balancer
      await request('DELETE /v2/lbaas/loadbalancers/{id}', { method: 'DELETE', path: `v2/lbaas/loadbalancers/${lbId(id)}`, query: { cascade: 'true' } });
    },

    async listMembers(balancerId) {
      const { pool } = await poolFor(balancerId);
      if (!pool) return [];
      const poolId = str(pool.id)!;
      // https://docs.openstack.org/api-ref/load-balancer/v2/#list-members
      const members = await all(`v2/lbaas/pools/${encodeURIComponent(poolId)}/members`, 'members');
      return members.map((m) => toMember(m, poolId));
    },

    async attachMember(balancerId, member) {
      checkMember(member, 'member');
      const lb = await waitActive(balancerId);
      const { pool } = await poolFor(balancerId);
      if (!pool) throw new InvalidInputError(`load balancer ${balancerId} has no pool to add members to`, { provider: DRIVER_NAME, field: 'balancerId' });
      const poolId = str(pool.id)!;
      return toMember(await addMember(poolId, opts.memberSubnetId ?? str(lb.vip_subnet_id), member), poolId);
    },

    async detachMember(balancerId, memberId) {
      if (typeof memberId !== 'string' || memberId === '') throw fail('memberId', 'memberId is required');
      await waitActive(balancerId);
      const { pool } = await poolFor(balancerId);
      if (!pool) throw new NotFoundError(`member ${memberId} is not in load balancer ${balancerId}`, { provider: DRIVER_NAME });
      // https://docs.openstack.org/api-ref/load-balancer/v2/#remove-a-member
      await request('DELETE /v2/lbaas/pools/{id}/members/{member}', {
        method: 'DELETE',
        path: `v2/lbaas/pools/${encodeURIComponent(str(pool.id)!)}/members/${encodeURIComponent(memberId)}`,
      });
      // why: the member stays listed (PENDING_DELETE) until the change is applied; detach is done when it is
      await waitActive(balancerId);
    },
  };

  function checkMember(m: { ip: string; port: number }, field: string): void {
    if (typeof m?.ip !== 'string' || isIP(m.ip) === 0) throw fail(`${field}.ip`, `${field}.ip must be an IP address`);
    if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535) throw fail(`${field}.port`, `${field}.port must be an integer from 1 to 65535`);
  }
}

// --- Internal helpers ---

function lbId(id: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 255) throw new InvalidInputError('id must be a load balancer id', { provider: DRIVER_NAME, field: 'id' });
  return encodeURIComponent(id);
}

function belongsTo(child: Json, lbId: string | undefined): boolean {
  return list(child.loadbalancers).some((l) => str(l.id) === lbId);
}

function primaryListener(lb: Json, listeners: Json[]): Json | undefined {
  const own = listeners.filter((l) => belongsTo(l, str(lb.id)));
  const order = list(lb.listeners).map((l) => str(l.id));
  return own.sort((a, b) => order.indexOf(str(a.id)) - order.indexOf(str(b.id)))[0];
}

function toBalancer(lb: Json, listeners: Json[], pools: Json[]): LoadBalancer {
  const listener = primaryListener(lb, listeners);
  const defaultPool = str(listener?.default_pool_id);
  const pool = pools.find((p) => str(p.id) === defaultPool) ?? pools.find((p) => belongsTo(p, str(lb.id)));
  const algorithm = str(pool?.lb_algorithm);
  const vip = str(lb.vip_address);
  return {
    id: str(lb.id)!,
    name: str(lb.name) ?? '',
    state: octaviaProvisioningState(lb.provisioning_status, lb.operating_status),
    ip: vip && isIP(vip) ? vip : null,
    port: typeof listener?.protocol_port === 'number' ? listener.protocol_port : null,
    protocol: str(listener?.protocol)?.toLowerCase() ?? null,
    algorithm: algorithm ? (OCTAVIA_TO_ALGORITHM[algorithm] ?? null) : null,
    extra: {
      provisioningStatus: str(lb.provisioning_status) ?? null,
      operatingStatus: str(lb.operating_status) ?? null,
      adminStateUp: lb.admin_state_up !== false,
      description: str(lb.description) ?? null,
      vipSubnetId: str(lb.vip_subnet_id) ?? null,
      vipNetworkId: str(lb.vip_network_id) ?? null,
      vipPortId: str(lb.vip_port_id) ?? null,
      projectId: str(lb.project_id) ?? null,
      provider: str(lb.provider) ?? null,
      flavorId: str(lb.flavor_id) ?? null,
      availabilityZone: str(lb.availability_zone) ?? null,
      listenerIds: list(lb.listeners).map((l) => str(l.id)).filter(Boolean),
      poolIds: list(lb.pools).map((p) => str(p.id)).filter(Boolean),
      poolId: str(pool?.id) ?? null,
      octaviaAlgorithm: algorithm ?? null,
      createdAt: str(lb.created_at) ?? null,
      updatedAt: str(lb.updated_at) ?? null,
    },
  };
}
