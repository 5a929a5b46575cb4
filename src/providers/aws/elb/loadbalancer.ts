/**
 * The classic ELB load-balancer driver (Elastic Load Balancing API 2012-06-01) for one
 * (account, region).
 *
 * - Balancer id = LoadBalancerName. `port`/`protocol` come from the first listener; every
 *   listener is in `extra.listeners`. Classic ELB has no state field, so balancers are `running`.
 * - Members are registered EC2 instances: `{id: instanceId, ip: null, port: the first listener's
 *   instance port, nodeId: instanceId}`, health from DescribeInstanceHealth in `extra`.
 *   Classic ELB cannot register addresses, so createBalancer takes no `members` (register
 *   instances with `ex.instanceIds`, attachNode, or attachMember with `nodeId`), and
 *   attachMember with only an ip is rejected.
 * - Algorithms: classic ELB routes TCP/SSL round robin and HTTP/HTTPS by least outstanding
 *   requests, and lets nobody choose. ROUND_ROBIN is the only value accepted; see mappers.ts for
 *   how a balancer reports what it really does.
 */
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import type { Algorithm, CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Logger, Member, Node } from '../../types.ts';
import { PAGE_SIZE, memberParams, members, stringList, structParams, text, type ElbApi, type QueryParams } from './api.ts';
import { toBalancer, toClassicBalancer, toInstanceHealth, toMember, type ClassicBalancer, type ClassicListener } from './mappers.ts';

export const DRIVER_NAME = 'elb';
export const API_VERSION = '2012-06-01';

const PROTOCOLS = ['http', 'https', 'tcp', 'ssl'];
const ALGORITHMS: Algorithm[] = ['ROUND_ROBIN'];
/** the back-end protocol a front-end protocol uses unless ex.instanceProtocol says otherwise */
const INSTANCE_PROTOCOL: Record<string, string> = { http: 'HTTP', https: 'HTTP', tcp: 'TCP', ssl: 'TCP' };
/** https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-listener-config.html */
const LISTENER_PORTS = new Set([25, 80, 443, 465, 587]);
const EX_KEYS = ['availabilityZones', 'subnets', 'securityGroups', 'scheme', 'instancePort', 'instanceProtocol', 'sslCertificateId', 'instanceIds'];
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** Account-level defaults for createBalancer (`options:` of an `elb` account). */
export interface ElbOptions {
  /** Availability Zones for new balancers when `ex` names neither zones nor subnets */
  availabilityZones?: string[];
  /** subnets (a VPC) for new balancers when `ex` names neither zones nor subnets */
  subnets?: string[];
  /** security groups for new balancers in a VPC, unless `ex.securityGroups` is given */
  securityGroups?: string[];
}

export function elbLoadBalancerDriver(api: ElbApi, options: ElbOptions = {}, logger?: Logger): LoadBalancerDriver {
  const describe = async (name: string): Promise<ClassicBalancer> => {
    if (!NAME.test(name)) throw notFound(name);
    // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
    const result = await api.call('DescribeLoadBalancers', memberParams('LoadBalancerNames', [name]));
    const found = members(result.LoadBalancerDescriptions).map(toClassicBalancer).find((b) => b.name === name);
    if (!found) throw notFound(name);
    return found;
  };

  const register = async (b: ClassicBalancer, instanceId: string, port: number, field: string): Promise<Member> => {
    checkInstancePort(b, port, field);
    // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_RegisterInstancesWithLoadBalancer.html
    await api.call('RegisterInstancesWithLoadBalancer', instanceParams(b.name, [instanceId]), { idempotent: true });
    return toMember(instanceId, port, undefined);
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...ALGORITHMS],

    listBalancers: () =>
      api.paginate('DescribeLoadBalancers', { PageSize: PAGE_SIZE }, (result) =>
        members(result.LoadBalancerDescriptions).map((d) => toBalancer(toClassicBalancer(d))),
      ),

    getBalancer: async (id) => toBalancer(await describe(id)),

    async createBalancer(input: CreateBalancerInput): Promise<LoadBalancer> {
      const plan = planCreate(input, options);
      // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_CreateLoadBalancer.html
      const created = await api.call('CreateLoadBalancer', plan.params);
      if (plan.instanceIds.length > 0) {
        try {
          await api.call('RegisterInstancesWithLoadBalancer', instanceParams(input.name, plan.instanceIds), { idempotent: true });
        } catch (err) {
          // why: a balancer without the instances asked for is not what the caller created; leave nothing behind
          await api.call('DeleteLoadBalancer', { LoadBalancerName: input.name }, { idempotent: true }).catch((undo: unknown) => {
            logger?.warn('elb: could not undo a failed createBalancer', { error: undo instanceof Error ? undo.message : String(undo) });
          });
          throw err;
        }
      }
      const listener = plan.listener;
      return toBalancer({
        name: input.name,
        listeners: [listener],
        instanceIds: plan.instanceIds,
        raw: {
          DNSName: text(created.DNSName) ?? '',
          Scheme: plan.params.Scheme ?? 'internet-facing',
          AvailabilityZones: { member: plan.zones },
          Subnets: { member: plan.subnets },
          SecurityGroups: { member: plan.securityGroups },
        },
      });
    },

    // why: a classic ELB cannot be renamed and balances one way only; its port and protocol are those
    // of its first listener, which is replaced: the new one is added before the old one goes when
    // the port changes, so the balancer keeps listening
    async updateBalancer(id, patch) {
      const b = await describe(id);
      if (patch.name !== undefined && patch.name !== b.name) throw invalid('a classic load balancer cannot be renamed', 'name');
      if (patch.algorithm !== undefined) checkAlgorithm(patch.algorithm);
      const protocol = patch.protocol === undefined ? undefined : checkProtocol(patch.protocol);
      if (patch.port !== undefined) checkListenerPort(patch.port);
      const old = b.listeners[0];
      if (!old) throw new ConflictError(`load balancer ${id} has no listener to change`, { provider: DRIVER_NAME });
      const next: ClassicListener = { ...old, port: patch.port ?? old.port, protocol: protocol ?? old.protocol };
      if (next.port === old.port && next.protocol === old.protocol) return toBalancer(b);
      const secure = next.protocol === 'https' || next.protocol === 'ssl';
      if (secure && !old.sslCertificateId) throw invalid(`a ${next.protocol} listener needs a server certificate; change it in AWS`, 'protocol');
      if (!secure) next.sslCertificateId = null;
      // why: HTTP front ends need HTTP back ends and TCP ones TCP; the instance port stays
      if (INSTANCE_PROTOCOL[next.protocol] !== INSTANCE_PROTOCOL[old.protocol]) next.instanceProtocol = (INSTANCE_PROTOCOL[next.protocol] ?? 'HTTP').toLowerCase();
      // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_CreateLoadBalancerListeners.html
      // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DeleteLoadBalancerListeners.html
      const remove = () => api.call('DeleteLoadBalancerListeners', { LoadBalancerName: id, ...memberParams('LoadBalancerPorts', [String(old.port)]) }, { idempotent: true });
      const add = () => api.call('CreateLoadBalancerListeners', listenerParams(id, next), { idempotent: true });
      if (next.port !== old.port) {
        await add();
        await remove();
      } else {
        await remove();
        await add();
      }
      return toBalancer(await describe(id));
    },

    async destroyBalancer(id) {
      // why: DeleteLoadBalancer succeeds for names that do not exist; the contract wants NotFoundError
      await describe(id);
      // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DeleteLoadBalancer.html
      await api.call('DeleteLoadBalancer', { LoadBalancerName: id }, { idempotent: true });
    },

    async listMembers(balancerId) {
      const [b, health] = await Promise.all([
        describe(balancerId),
        // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeInstanceHealth.html
        NAME.test(balancerId)
          ? api.call('DescribeInstanceHealth', { LoadBalancerName: balancerId }).then(toInstanceHealth)
          : Promise.resolve(new Map()),
      ]);
      const port = b.listeners[0]?.instancePort ?? null;
      return b.instanceIds.map((id) => toMember(id, port, health.get(id)));
    },

    async attachMember(balancerId, member) {
      if (member?.nodeId === undefined || member.nodeId === null) {
        throw invalid(
          `classic ELB registers EC2 instances, not IP addresses, so member.ip ${JSON.stringify(member?.ip)} cannot be attached; ` +
            'use attachNode with the instance, pass member.nodeId (the instance id), or use the alb driver for IP targets',
          'member.ip',
        );
      }
      const instanceId = requireInstanceId(member.nodeId, 'member.nodeId');
      return register(await describe(balancerId), instanceId, member.port, 'member.port');
    },

    async attachNode(balancerId, node: Node, port) {
      const instanceId = requireInstanceId(node?.id, 'node.id');
      return register(await describe(balancerId), instanceId, port, 'port');
    },

    async detachMember(balancerId, memberId) {
      const b = await describe(balancerId);
      // why: deregistering an instance that is not registered is not an error upstream; the contract wants NotFoundError
      if (!b.instanceIds.includes(memberId)) {
        throw new NotFoundError(`instance ${JSON.stringify(memberId)} is not registered with load balancer ${JSON.stringify(balancerId)}`, {
          provider: DRIVER_NAME,
        });
      }
      // https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DeregisterInstancesFromLoadBalancer.html
      await api.call('DeregisterInstancesFromLoadBalancer', instanceParams(balancerId, [memberId]), { idempotent: true });
    },
  };
}

// --- Internal helpers ---

interface CreatePlan {
  params: QueryParams;
  listener: ReturnType<typeof toClassicBalancer>['listeners'][number];
  zones: string[];
  subnets: string[];
  securityGroups: string[];
  instanceIds: string[];
}

function planCreate(input: CreateBalancerInput, options: ElbOptions): CreatePlan {
  // why: the algorithm is checked first, so an unsupported one is reported whatever else is wrong
  checkAlgorithm(input.algorithm);
  if (typeof input.name !== 'string' || !NAME.test(input.name)) {
    throw invalid('name must be 1 to 32 letters, digits or hyphens, and must not begin or end with a hyphen', 'name');
  }
  const protocol = checkProtocol(input.protocol);
  checkListenerPort(input.port);
  if (!Array.isArray(input.members)) throw invalid('members must be a list', 'members');
  if (input.members.length > 0) {
    throw invalid(
      'classic ELB registers EC2 instances, not IP addresses: pass members: [] and give the instances as ex.instanceIds, ' +
        'or attach them afterwards with attachNode; the alb driver takes IP members',
      'members',
    );
  }
  const ex = input.ex ?? {};
  const unknown = Object.keys(ex).find((k) => !EX_KEYS.includes(k));
  if (unknown !== undefined) throw invalid(`ex.${unknown} is not an elb createBalancer parameter (known: ${EX_KEYS.join(', ')})`, `ex.${unknown}`);

  const exZones = stringList(ex.availabilityZones, 'ex.availabilityZones', invalid);
  const exSubnets = stringList(ex.subnets, 'ex.subnets', invalid);
  if (exZones && exSubnets) throw invalid('give ex.availabilityZones or ex.subnets, not both', 'ex.subnets');
  const fromEx = exZones !== undefined || exSubnets !== undefined;
  const zones = fromEx ? (exZones ?? []) : (options.availabilityZones ?? []);
  const subnets = fromEx ? (exSubnets ?? []) : zones.length > 0 ? [] : (options.subnets ?? []);
  if (zones.length === 0 && subnets.length === 0) {
    throw invalid(
      'a classic load balancer needs ex.availabilityZones (zones of the default VPC) or ex.subnets (subnets of a VPC), ' +
        'and the account sets neither options.availabilityZones nor options.subnets',
      'ex.availabilityZones',
    );
  }
  const securityGroups = stringList(ex.securityGroups, 'ex.securityGroups', invalid) ?? options.securityGroups ?? [];
  const scheme = ex.scheme;
  if (scheme !== undefined && scheme !== 'internal' && scheme !== 'internet-facing') {
    throw invalid('ex.scheme must be "internal" or "internet-facing"', 'ex.scheme');
  }
  const instancePort = ex.instancePort ?? input.port;
  if (typeof instancePort !== 'number' || !Number.isInteger(instancePort) || instancePort < 1 || instancePort > 65535) {
    throw invalid('ex.instancePort must be an integer from 1 to 65535', 'ex.instancePort');
  }
  const instanceProtocol = ex.instanceProtocol ?? INSTANCE_PROTOCOL[protocol];
  if (typeof instanceProtocol !== 'string' || !PROTOCOLS.includes(instanceProtocol.toLowerCase())) {
    throw invalid(`ex.instanceProtocol must be one of ${PROTOCOLS.join(', ')}`, 'ex.instanceProtocol');
  }
  const secure = protocol === 'https' || protocol === 'ssl';
  const certificate = ex.sslCertificateId;
  if (secure && (typeof certificate !== 'string' || certificate === '')) {
    throw invalid(`a ${protocol} listener needs ex.sslCertificateId (the ARN of an ACM or IAM server certificate)`, 'ex.sslCertificateId');
  }
  const instanceIds = (stringList(ex.instanceIds, 'ex.instanceIds', invalid) ?? []).map((id, i) => requireInstanceId(id, `ex.instanceIds[${i}]`));

  const listener = {
    protocol,
    port: input.port,
    instanceProtocol: instanceProtocol.toLowerCase(),
    instancePort,
    sslCertificateId: secure ? (certificate as string) : null,
  };
  const params: QueryParams = {
    ...listenerParams(input.name, listener),
    ...memberParams('AvailabilityZones', zones),
    ...memberParams('Subnets', subnets),
    ...memberParams('SecurityGroups', subnets.length > 0 ? securityGroups : []),
  };
  if (scheme !== undefined) params.Scheme = scheme;
  return { params, listener, zones, subnets, securityGroups: subnets.length > 0 ? securityGroups : [], instanceIds };
}

function checkAlgorithm(algorithm: Algorithm): void {
  if (!ALGORITHMS.includes(algorithm)) {
    throw invalid(
      `algorithm ${JSON.stringify(algorithm)} is not supported: classic ELB routes TCP/SSL round robin and HTTP/HTTPS by least outstanding requests, ` +
        `and neither can be changed (supported: ${ALGORITHMS.join(', ')}; the alb driver also offers LEAST_CONNECTIONS and RANDOM)`,
      'algorithm',
    );
  }
}

function checkProtocol(value: unknown): string {
  const protocol = typeof value === 'string' ? value.toLowerCase() : '';
  if (!PROTOCOLS.includes(protocol)) throw invalid(`protocol must be one of ${PROTOCOLS.join(', ')}`, 'protocol');
  return protocol;
}

function checkListenerPort(port: number): void {
  if (!Number.isInteger(port) || !(LISTENER_PORTS.has(port) || (port >= 1024 && port <= 65535))) {
    throw invalid('port must be 25, 80, 443, 465, 587 or 1024 to 65535 (the ports a classic load balancer listens on)', 'port');
  }
}

function listenerParams(name: string, l: ClassicListener): QueryParams {
  return {
    LoadBalancerName: name,
    ...structParams('Listeners', [
      { Protocol: l.protocol.toUpperCase(), LoadBalancerPort: l.port, InstanceProtocol: l.instanceProtocol.toUpperCase(), InstancePort: l.instancePort, SSLCertificateId: l.sslCertificateId ?? undefined },
    ]),
  };
}

function instanceParams(name: string, instanceIds: readonly string[]): QueryParams {
  return { LoadBalancerName: name, ...structParams('Instances', instanceIds.map((id) => ({ InstanceId: id }))) };
}

/** why: every registered instance gets traffic on the listeners' instance ports, and only on those */
function checkInstancePort(b: ClassicBalancer, port: number, field: string): void {
  const ports = [...new Set(b.listeners.map((l) => l.instancePort))];
  if (!ports.includes(port)) {
    throw invalid(
      `classic ELB sends traffic to every instance on its listeners' instance ports (${ports.join(', ') || 'none'}), so ${field} ${port} cannot be honoured`,
      field,
    );
  }
}

function requireInstanceId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !INSTANCE_ID.test(id)) {
    throw invalid(`${field} must be an EC2 instance id (i-…); classic ELB can only register EC2 instances`, field);
  }
  return id;
}

function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`no classic load balancer named ${JSON.stringify(name)}`, { provider: DRIVER_NAME });
}
