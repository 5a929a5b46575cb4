/**
 * Sandbox load-balancer driver. It shares the account state with the compute driver, so
 * attachNode and member node ids refer to the sandbox's own nodes.
 *
 * WEIGHTED_LEAST_CONNECTIONS is deliberately unsupported, so callers see the
 * "unsupported algorithm" path that real providers take.
 */
import { isIP } from 'node:net';
import { ConflictError } from '../errors.ts';
import type { Algorithm, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Member } from '../types.ts';
import { DRIVER_NAME } from './options.ts';
import {
  currentState,
  findNode,
  invalid,
  nextId,
  notFound,
  requireName,
  transition,
  type BalancerRecord,
  type SandboxRuntime,
} from './state.ts';

const PROTOCOLS = ['http', 'https', 'tcp', 'udp'];
const SUPPORTED: Algorithm[] = ['RANDOM', 'ROUND_ROBIN', 'LEAST_CONNECTIONS', 'WEIGHTED_ROUND_ROBIN', 'SOURCE_IP'];

export function sandboxLoadBalancer(rt: SandboxRuntime): LoadBalancerDriver {
  const { state } = rt;
  const findBalancer = (id: string): BalancerRecord => {
    const balancer = state.balancers.get(id);
    if (!balancer) throw notFound('balancer', id);
    return balancer;
  };

  const addMember = (balancer: BalancerRecord, ip: string, port: number, nodeId: string | null): Member => {
    if (balancer.members.some((m) => m.ip === ip && m.port === port)) {
      throw new ConflictError(`${ip}:${port} is already a member of balancer ${JSON.stringify(balancer.id)}`, {
        provider: DRIVER_NAME,
        status: 409,
      });
    }
    const member: Member = {
      id: nextId(state, 'member', 'member'),
      ip,
      port,
      nodeId,
      extra: { weight: 1, condition: 'ENABLED' },
    };
    balancer.members.push(member);
    return structuredClone(member);
  };

  return {
    listProtocols: () => rt.call('listProtocols', () => [...PROTOCOLS]),

    // why: static capability data; no upstream call, so no recordCall, latency or failure
    listAlgorithms: () => [...SUPPORTED],

    listBalancers: () => rt.call('listBalancers', () => [...state.balancers.values()].map((b) => toBalancer(rt, b))),

    getBalancer: (id) => rt.call('getBalancer', () => toBalancer(rt, findBalancer(id))),

    createBalancer: (input: CreateBalancerInput) =>
      rt.call('createBalancer', () => {
        requireName(input.name, 'name');
        checkPort(input.port, 'port');
        checkProtocol(input.protocol);
        checkAlgorithm(input.algorithm);
        if (!Array.isArray(input.members)) throw invalid('members must be a list', 'members');
        input.members.forEach((m, i) => checkMember(m, `members[${i}]`));
        const exKey = Object.keys(input.ex ?? {})[0];
        if (exKey !== undefined) throw invalid(`ex.${exKey} is not a sandbox createBalancer parameter`, `ex.${exKey}`);
        const now = rt.now();
        const id = nextId(state, 'balancer', 'lb');
        const balancer: BalancerRecord = {
          id,
          name: input.name,
          port: input.port,
          protocol: input.protocol,
          algorithm: input.algorithm,
          ip: `198.51.100.${10 + (state.counters.balancer % 240)}`,
          createdAt: new Date(now),
          life: { state: 'pending' },
          members: [],
        };
        transition(balancer.life, now, 'pending', 'running', state.options.transitionMs);
        for (const m of input.members) addMember(balancer, m.ip, m.port, null);
        state.balancers.set(id, balancer);
        return toBalancer(rt, balancer);
      }),

    updateBalancer: (id, patch) =>
      rt.call('updateBalancer', () => {
        const balancer = findBalancer(id);
        if (patch.name !== undefined) requireName(patch.name, 'name');
        if (patch.port !== undefined) checkPort(patch.port, 'port');
        if (patch.protocol !== undefined) checkProtocol(patch.protocol);
        if (patch.algorithm !== undefined) checkAlgorithm(patch.algorithm);
        Object.assign(balancer, {
          name: patch.name ?? balancer.name,
          port: patch.port ?? balancer.port,
          protocol: patch.protocol ?? balancer.protocol,
          algorithm: patch.algorithm ?? balancer.algorithm,
        });
        return toBalancer(rt, balancer);
      }),

    destroyBalancer: (id) =>
      rt.call('destroyBalancer', () => {
        findBalancer(id);
        state.balancers.delete(id);
      }),

    listMembers: (balancerId) => rt.call('listMembers', () => structuredClone(findBalancer(balancerId).members)),

    attachMember: (balancerId, member) =>
      rt.call('attachMember', () => {
        const balancer = findBalancer(balancerId);
        checkMember(member, 'member');
        if (member.nodeId !== undefined) {
          try {
            findNode(rt, member.nodeId);
          } catch {
            throw invalid(`unknown node ${JSON.stringify(member.nodeId)}`, 'member.nodeId');
          }
        }
        return addMember(balancer, member.ip, member.port, member.nodeId ?? null);
      }),

    attachNode: (balancerId, node, port) =>
      rt.call('attachNode', () => {
        const balancer = findBalancer(balancerId);
        findNode(rt, node.id);
        checkPort(port, 'port');
        const ip = node.publicIps[0] ?? node.privateIps[0];
        if (ip === undefined) throw invalid(`node ${JSON.stringify(node.id)} has no IP address`, 'node');
        return addMember(balancer, ip, port, node.id);
      }),

    detachMember: (balancerId, memberId) =>
      rt.call('detachMember', () => {
        const balancer = findBalancer(balancerId);
        const index = balancer.members.findIndex((m) => m.id === memberId);
        if (index < 0) throw notFound('member', memberId);
        balancer.members.splice(index, 1);
      }),
  };
}

// --- Internal helpers ---

function toBalancer(rt: SandboxRuntime, b: BalancerRecord): LoadBalancer {
  return {
    id: b.id,
    name: b.name,
    state: currentState(b.life, rt.now()),
    ip: b.ip,
    port: b.port,
    protocol: b.protocol,
    algorithm: b.algorithm,
    extra: { createdAt: b.createdAt.toISOString(), memberCount: b.members.length },
  };
}

function checkPort(port: unknown, field: string): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${field} must be an integer from 1 to 65535`, field);
  }
}

function checkProtocol(protocol: string): void {
  if (!PROTOCOLS.includes(protocol)) throw invalid(`protocol must be one of ${PROTOCOLS.join(', ')}`, 'protocol');
}

function checkAlgorithm(algorithm: Algorithm): void {
  if (!SUPPORTED.includes(algorithm)) {
    throw invalid(`algorithm ${JSON.stringify(algorithm)} is not supported (supported: ${SUPPORTED.join(', ')})`, 'algorithm');
  }
}

function checkMember(member: { ip: string; port: number }, field: string): void {
  if (typeof member?.ip !== 'string' || isIP(member.ip) === 0) throw invalid(`${field}.ip must be an IP address`, `${field}.ip`);
  checkPort(member.port, `${field}.port`);
}
