/**
 * Compute Engine network load balancing (the target-pool model of libcloud's GCE driver) for one
 * region: a balancer is a forwarding rule (address, protocol, port) and the target pool it points
 * at; members are the pool's instances, named by their node ids (`zone/name`). A network load
 * balancer passes packets through, so members take traffic on the balancer's own port.
 *
 * Algorithms: a target pool's sessionAffinity NONE (a 5-tuple hash) reads as RANDOM; CLIENT_IP
 * and CLIENT_IP_PROTO (hashes of the client address) read as SOURCE_IP, which creates CLIENT_IP.
 *
 * https://cloud.google.com/load-balancing/docs/network/networklb-target-pools
 * https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules
 * https://cloud.google.com/compute/docs/reference/rest/v1/targetPools
 */
import { isIP } from 'node:net';
import { InvalidInputError, NotFoundError } from '../../errors.ts';
import type { Algorithm, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Member, Node } from '../../types.ts';
import { nameFilter } from '../client.ts';
import { lastSegment, str, strings, type Json } from '../json.ts';
import { checkName, FILTER_NAMES_MAX, parseNodeId, type GceApi } from '../gce/api.ts';
import { toNode } from '../gce/mappers.ts';

const PROTOCOLS = ['tcp', 'udp'] as const;
const ALGORITHMS: readonly Algorithm[] = ['RANDOM', 'SOURCE_IP'];
// https://cloud.google.com/compute/docs/reference/rest/v1/targetPools (sessionAffinity)
export const SESSION_AFFINITY: Readonly<Record<string, Algorithm>> = { NONE: 'RANDOM', CLIENT_IP: 'SOURCE_IP', CLIENT_IP_PROTO: 'SOURCE_IP' };
const EX_KEYS = ['instances', 'healthChecks', 'address', 'description'];

/** The `ex` parameters createBalancer takes. */
export interface GceLbCreateOptions {
  /** node ids (`zone/name`) to put in the pool, besides `members` */
  instances?: string[];
  /** legacy HTTP health check names (global/httpHealthChecks) */
  healthChecks?: string[];
  /** a reserved external IPv4 address (the literal) for the forwarding rule */
  address?: string;
  description?: string;
}

export function gceLoadBalancerDriver(api: GceApi): LoadBalancerDriver {
  const { provider, region } = api;
  const fail = (field: string, message: string) => new InvalidInputError(message, { provider, field });

  // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/get
  const getRule = (id: string) => api.call('GET forwardingRule', `regions/${region}/forwardingRules/${checkName(id, provider, 'id')}`);
  const poolOf = (rule: Json, id: string) => {
    const target = str(rule.target) ?? '';
    const m = /\/regions\/([^/]+)\/targetPools\/([^/]+)$/.exec(target);
    if (!m) throw new NotFoundError(`forwarding rule ${id} does not point at a target pool (it is not a network load balancer)`, { provider });
    return m[2]!;
  };
  // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/get
  const getPool = (name: string) => api.call('GET targetPool', `regions/${region}/targetPools/${name}`);
  const instanceRef = async (nodeId: string, field: string) => {
    const { zone, name } = parseNodeId(nodeId, provider, field);
    if (zone.slice(0, zone.lastIndexOf('-')) !== region) throw fail(field, `${field} must be an instance of a zone of ${region}`);
    return `projects/${await api.client.project()}/zones/${zone}/instances/${name}`;
  };
  /** node ids for member addresses: one aggregatedList call (per page) for all of them */
  const nodesByIp = async (ips: string[], field: string): Promise<string[]> => {
    if (ips.length === 0) return [];
    const nodes = (await api.aggregated('instances')).map((i) => toNode(i, provider));
    return ips.map((ip, i) => {
      const node = nodes.find((n) => n.privateIps.includes(ip) || n.publicIps.includes(ip));
      if (!node) throw fail(`${field}[${i}].ip`, `${field}[${i}].ip is the address of no instance in ${region}`);
      return node.id;
    });
  };
  const checkMemberPort = (port: unknown, rule: Json, field: string) => {
    const [from, to] = portRange(rule);
    if (typeof port !== 'number' || !Number.isInteger(port) || from === undefined || port < from || port > (to ?? from)) {
      throw fail(field, `${field} must be the balancer's port (${str(rule.portRange) ?? 'unknown'}): a network load balancer forwards to the same port`);
    }
  };
  const poolAction = async (action: 'addInstance' | 'removeInstance', pool: string, ref: string) => {
    // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/addInstance (and removeInstance)
    const op = await api.call(`POST targetPools/${action}`, `regions/${region}/targetPools/${pool}/${action}`, { method: 'POST', json: { instances: [{ instance: ref }] } });
    await api.wait(op, `POST targetPools/${action}`);
  };
  const members = async (rule: Json, pool: Json): Promise<Member[]> => {
    const refs = strings(pool.instances).map(instanceId).filter((x): x is { zone: string; name: string } => x !== undefined);
    const found = new Map<string, Node>();
    for (let i = 0; i < refs.length; i += FILTER_NAMES_MAX) {
      const names = [...new Set(refs.slice(i, i + FILTER_NAMES_MAX).map((r) => r.name))];
      for (const inst of await api.aggregated('instances', { filter: nameFilter(names) })) {
        const node = toNode(inst, provider);
        found.set(node.id, node);
      }
    }
    const [port] = portRange(rule);
    return refs.map(({ zone, name }) => {
      const id = `${zone}/${name}`;
      const node = found.get(id);
      return { id, ip: node?.privateIps[0] ?? null, port: port ?? null, nodeId: id, extra: { zone, instance: name, state: node?.state ?? null } };
    });
  };

  return {
    // why: static capability data; a target pool balances TCP or UDP
    listProtocols: async () => [...PROTOCOLS],
    listAlgorithms: () => [...ALGORITHMS],

    async listBalancers() {
      // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/list
      const [rules, pools] = await Promise.all([api.list('GET forwardingRules', `regions/${region}/forwardingRules`), api.list('GET targetPools', `regions/${region}/targetPools`)]);
      const byName = new Map(pools.map((p) => [str(p.name), p]));
      return rules.flatMap((rule) => {
        const m = /\/regions\/[^/]+\/targetPools\/([^/]+)$/.exec(str(rule.target) ?? '');
        const pool = m ? byName.get(m[1]) : undefined;
        return pool ? [toBalancer(rule, pool)] : [];
      });
    },

    async getBalancer(id) {
      const rule = await getRule(id);
      return toBalancer(rule, await getPool(poolOf(rule, id)));
    },

    async createBalancer(input: CreateBalancerInput) {
      const name = checkName(input.name, provider, 'name');
      const algorithm = input.algorithm;
      if (!ALGORITHMS.includes(algorithm)) throw fail('algorithm', `algorithm ${String(algorithm)} is not supported by target pools (supported: ${ALGORITHMS.join(', ')})`);
      const protocol = typeof input.protocol === 'string' ? input.protocol.toLowerCase() : '';
      if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw fail('protocol', `protocol must be one of ${PROTOCOLS.join(', ')}`);
      if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw fail('port', 'port must be an integer from 1 to 65535');
      const ex = (input.ex ?? {}) as GceLbCreateOptions & Record<string, unknown>;
      for (const key of Object.keys(ex)) if (!EX_KEYS.includes(key)) throw fail(`ex.${key}`, `ex.${key} is not a gce-lb createBalancer option (known: ${EX_KEYS.join(', ')})`);
      if (ex.instances !== undefined && (!Array.isArray(ex.instances) || ex.instances.some((i) => typeof i !== 'string'))) throw fail('ex.instances', 'ex.instances must be a list of node ids (zone/name)');
      if (ex.healthChecks !== undefined && (!Array.isArray(ex.healthChecks) || ex.healthChecks.some((c) => typeof c !== 'string'))) throw fail('ex.healthChecks', 'ex.healthChecks must be a list of HTTP health check names');
      if (ex.address !== undefined && (typeof ex.address !== 'string' || isIP(ex.address) !== 4)) throw fail('ex.address', 'ex.address must be a reserved IPv4 address');
      if (ex.description !== undefined && (typeof ex.description !== 'string' || ex.description.length > 2048)) throw fail('ex.description', 'ex.description must be a string of at most 2048 characters');
      input.members.forEach((m, i) => {
        if (typeof m?.ip !== 'string' || isIP(m.ip) === 0) throw fail(`members[${i}].ip`, `members[${i}].ip must be an IP address`);
        if (m.port !== input.port) throw fail(`members[${i}].port`, `members[${i}].port must be the balancer's port ${input.port}: a network load balancer forwards to the same port`);
      });
      const healthChecks = (ex.healthChecks ?? []).map((c, i) => `global/httpHealthChecks/${checkName(c, provider, `ex.healthChecks[${i}]`)}`);
      const nodeIds = [...(ex.instances ?? []), ...(await nodesByIp(input.members.map((m) => m.ip), 'members'))];
      const instances = await Promise.all(nodeIds.map((id, i) => instanceRef(id, `ex.instances[${i}]`)));

      // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/insert
      const poolOp = await api.call('POST targetPools', `regions/${region}/targetPools`, {
        method: 'POST',
        json: {
          name,
          ...(ex.description ? { description: ex.description } : {}),
          instances: [...new Set(instances)],
          ...(healthChecks.length ? { healthChecks } : {}),
          sessionAffinity: algorithm === 'SOURCE_IP' ? 'CLIENT_IP' : 'NONE',
        },
      });
      const pool = await api.wait(poolOp, 'POST targetPools');
      try {
        // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/insert
        const ruleOp = await api.call('POST forwardingRules', `regions/${region}/forwardingRules`, {
          method: 'POST',
          json: {
            name,
            ...(ex.description ? { description: ex.description } : {}),
            ...(ex.address ? { IPAddress: ex.address } : {}),
            IPProtocol: protocol.toUpperCase(),
            portRange: `${input.port}-${input.port}`,
            target: str(pool.targetLink) ?? `projects/${await api.client.project()}/regions/${region}/targetPools/${name}`,
            loadBalancingScheme: 'EXTERNAL',
          },
        });
        await api.wait(ruleOp, 'POST forwardingRules');
      } catch (err) {
        // why: a pool without its rule would be an orphan no balancer lists
        await api
          .call('DELETE targetPool', `regions/${region}/targetPools/${name}`, { method: 'DELETE' })
          .then((op) => api.wait(op, 'DELETE targetPool'))
          .catch(() => undefined);
        throw err;
      }
      return toBalancer(await getRule(name), await getPool(name));
    },

    async destroyBalancer(id) {
      const rule = await getRule(id);
      const target = str(rule.target);
      // https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules/delete
      const op = await api.call('DELETE forwardingRule', `regions/${region}/forwardingRules/${checkName(id, provider, 'id')}`, { method: 'DELETE' });
      await api.wait(op, 'DELETE forwardingRule');
      const pool = /\/regions\/[^/]+\/targetPools\/([^/]+)$/.exec(target ?? '')?.[1];
      if (!pool) return;
      // why: the pool goes with its balancer unless another forwarding rule still sends to it
      const others = await api.list('GET forwardingRules', `regions/${region}/forwardingRules`);
      if (others.some((r) => lastSegment(r.target) === pool && /\/targetPools\//.test(str(r.target) ?? ''))) return;
      // https://cloud.google.com/compute/docs/reference/rest/v1/targetPools/delete
      const poolOp = await api.call('DELETE targetPool', `regions/${region}/targetPools/${pool}`, { method: 'DELETE' });
      await api.wait(poolOp, 'DELETE targetPool');
    },

    async listMembers(balancerId) {
      const rule = await getRule(balancerId);
      return members(rule, await getPool(poolOf(rule, balancerId)));
    },

    async attachMember(balancerId, member) {
      const rule = await getRule(balancerId);
      checkMemberPort(member?.port, rule, 'member.port');
      let nodeId = member.nodeId;
      if (nodeId === undefined) {
        if (typeof member.ip !== 'string' || isIP(member.ip) === 0) throw fail('member.ip', 'member.ip must be an IP address (or give member.nodeId)');
        [nodeId] = await nodesByIp([member.ip], 'member');
      }
      const pool = poolOf(rule, balancerId);
      await poolAction('addInstance', pool, await instanceRef(nodeId!, 'member.nodeId'));
      return (await members(rule, await getPool(pool))).find((m) => m.id === nodeId) ?? missingMember(nodeId!, provider);
    },

    async attachNode(balancerId: string, node: Node, port: number) {
      const rule = await getRule(balancerId);
      checkMemberPort(port, rule, 'port');
      const pool = poolOf(rule, balancerId);
      await poolAction('addInstance', pool, await instanceRef(node.id, 'node.id'));
      return (await members(rule, await getPool(pool))).find((m) => m.id === node.id) ?? missingMember(node.id, provider);
    },

    async detachMember(balancerId, memberId) {
      const { zone, name } = parseNodeId(memberId, provider, 'memberId');
      const rule = await getRule(balancerId);
      const poolName = poolOf(rule, balancerId);
      const pool = await getPool(poolName);
      if (!strings(pool.instances).some((u) => u.endsWith(`/zones/${zone}/instances/${name}`))) {
        throw new NotFoundError(`${memberId} is not a member of load balancer ${balancerId}`, { provider });
      }
      await poolAction('removeInstance', poolName, await instanceRef(memberId, 'memberId'));
    },
  };
}

export function toBalancer(rule: Json, pool: Json): LoadBalancer {
  const [port, to] = portRange(rule);
  const affinity = str(pool.sessionAffinity) ?? 'NONE';
  const address = str(rule.IPAddress);
  return {
    id: str(rule.name) ?? '',
    name: str(rule.name) ?? '',
    // why: forwarding rules and target pools have no status; one that exists is serving
    state: 'running',
    ip: address && isIP(address) ? address : null,
    port: port ?? null,
    protocol: str(rule.IPProtocol)?.toLowerCase() ?? null,
    algorithm: SESSION_AFFINITY[affinity] ?? null,
    extra: {
      targetPool: str(pool.name) ?? null,
      sessionAffinity: affinity,
      portRange: str(rule.portRange) ?? null,
      portRangeEnd: to !== undefined && to !== port ? to : null,
      healthChecks: strings(pool.healthChecks).map((h) => lastSegment(h) ?? h),
      instanceCount: strings(pool.instances).length,
      backupPool: lastSegment(pool.backupPool) ?? null,
      loadBalancingScheme: str(rule.loadBalancingScheme) ?? null,
      networkTier: str(rule.networkTier) ?? null,
      ruleId: str(rule.id) ?? null,
      createdAt: str(rule.creationTimestamp) ?? null,
      description: str(rule.description) ?? null,
    },
  };
}

// --- Internal helpers ---

/** `80-80` -> [80, 80]; `8000-8500` -> [8000, 8500]. */
function portRange(rule: Json): [number | undefined, number | undefined] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(str(rule.portRange) ?? '');
  if (!m) return [undefined, undefined];
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

function instanceId(url: string): { zone: string; name: string } | undefined {
  const m = /\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(url);
  return m ? { zone: m[1]!, name: m[2]! } : undefined;
}

function missingMember(id: string, provider: string): never {
  throw new NotFoundError(`the target pool does not list ${id} after adding it`, { provider });
}
