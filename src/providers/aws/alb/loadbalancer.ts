/**
 * The Application Load Balancer driver (Elastic Load Balancing v2, API 2015-12-01) for one
 * (account, region).
 *
 * - Balancer id = LoadBalancerArn; only `application` load balancers are listed (the v2 API
 *   also returns network and gateway ones). `port`/`protocol` come from the first listener (by
 *   port), `algorithm` from its forward target group's `load_balancing.algorithm.type`.
 * - Members are the targets of the balancer's target group: the one it owns
 *   (`skygraph-<id>`, see create.ts), else its only one, else the first listener's. Balancers
 *   made here use target type `ip`, so any address attaches (attachNode uses the node's private
 *   IP); instance target groups of balancers made elsewhere register instance ids. Member id is
 *   `ip:port` (`[ipv6]:port`) or `instanceId:port`. Targets `draining` after a deregistration
 *   take no new requests and are not listed.
 * - destroyBalancer deletes the listeners, the owned target group (name and tag must match),
 *   then the load balancer; target groups it does not own are left alone.
 */
import { isIP } from 'node:net';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { CreateBalancerInput, LoadBalancer, LoadBalancerDriver, Logger, Member, Node } from '../../types.ts';
import { PAGE_SIZE, mapLimit, memberParams, members, structParams, text, type ElbApi, type XmlObject } from '../elb/api.ts';
import {
  ALB_ARN,
  DRIVER_NAME,
  OWNER_TAG,
  PROTOCOLS,
  SUPPORTED_ALGORITHMS,
  algorithmAttributes,
  algorithmType,
  checkPort,
  createAlb,
  invalid,
  ownedTargetGroupName,
  type AlbOptions,
} from './create.ts';
import {
  ALGORITHM_ATTRIBUTE,
  memberId,
  parseMemberId,
  toAttributes,
  toBalancer,
  toListener,
  toMember,
  toTargetGroup,
  type AlbListener,
  type AlbTargetGroup,
} from './mappers.ts';

export { DRIVER_NAME } from './create.ts';
export type { AlbOptions } from './create.ts';
export const API_VERSION = '2015-12-01';

/** balancers described at once by listBalancers (two calls each) */
const CONCURRENCY = 4;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

export function albLoadBalancerDriver(api: ElbApi, options: AlbOptions = {}, logger?: Logger): LoadBalancerDriver {
  const describeBalancer = async (id: string): Promise<XmlObject> => {
    if (typeof id !== 'string' || !ALB_ARN.test(id)) throw notFound(id);
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
    const result = await api.call('DescribeLoadBalancers', memberParams('LoadBalancerArns', [id]));
    const found = members(result.LoadBalancers).find((lb) => text(lb.LoadBalancerArn) === id);
    if (!found) throw notFound(id);
    return found;
  };

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeListeners.html
  const listenersOf = async (balancerArn: string): Promise<AlbListener[]> => {
    const listeners = await api.paginate('DescribeListeners', { LoadBalancerArn: balancerArn, PageSize: PAGE_SIZE }, (r) =>
      members(r.Listeners).map(toListener),
    );
    return listeners.sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
  };

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroupAttributes.html
  const attributesOf = async (targetGroupArn: string): Promise<Map<string, string> | undefined> => {
    try {
      return toAttributes(await api.call('DescribeTargetGroupAttributes', { TargetGroupArn: targetGroupArn }));
    } catch (err) {
      // why: a target group deleted under us leaves the balancer without a known algorithm, not unlistable
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };

  const view = async (lb: XmlObject): Promise<LoadBalancer> => {
    const listeners = await listenersOf(text(lb.LoadBalancerArn) ?? '');
    const targetGroupArn = listeners[0]?.targetGroupArn;
    return toBalancer(lb, listeners, targetGroupArn ? await attributesOf(targetGroupArn) : undefined);
  };

  /** The target group whose targets are this balancer's members; null when it has none. */
  const targetGroupOf = async (balancerId: string): Promise<AlbTargetGroup | null> => {
    if (typeof balancerId !== 'string' || !ALB_ARN.test(balancerId)) throw notFound(balancerId);
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
    const groups = await api.paginate('DescribeTargetGroups', { LoadBalancerArn: balancerId, PageSize: PAGE_SIZE }, (r) =>
      members(r.TargetGroups).map(toTargetGroup),
    );
    const owned = groups.find((g) => g.name === ownedTargetGroupName(balancerId));
    if (owned || groups.length <= 1) return owned ?? groups[0] ?? null;
    const forward = (await listenersOf(balancerId)).find((l) => l.targetGroupArn !== null)?.targetGroupArn;
    return groups.find((g) => g.arn === forward) ?? groups[0] ?? null;
  };

  const requireTargetGroup = async (balancerId: string): Promise<AlbTargetGroup> => {
    const group = await targetGroupOf(balancerId);
    if (!group) throw new ConflictError(`load balancer ${balancerId} has no target group to register members in`, { provider: DRIVER_NAME });
    return group;
  };

  const register = async (group: AlbTargetGroup, targetId: string, port: number, nodeId: string | null): Promise<Member> => {
    await api.call('RegisterTargets', { TargetGroupArn: group.arn, ...structParams('Targets', [{ Id: targetId, Port: port }]) }, { idempotent: true });
    return {
      id: memberId(targetId, port),
      ip: isIP(targetId) ? targetId : null,
      port,
      nodeId,
      extra: { targetGroupArn: group.arn, state: null, reason: null, description: null, availabilityZone: null },
    };
  };

  return {
    listProtocols: async () => [...PROTOCOLS],

    // why: static capability data; no upstream call
    listAlgorithms: () => [...SUPPORTED_ALGORITHMS],

    async listBalancers() {
      const all = await api.paginate('DescribeLoadBalancers', { PageSize: PAGE_SIZE }, (r) => members(r.LoadBalancers));
      const apps = all.filter((lb) => text(lb.Type) === 'application');
      const views = await mapLimit(apps, CONCURRENCY, (lb) =>
        view(lb).catch((err: unknown) => {
          // why: a balancer deleted between the list and its listeners is simply gone
          if (err instanceof NotFoundError) return null;
          throw err;
        }),
      );
      return views.filter((b): b is LoadBalancer => b !== null);
    },

    getBalancer: async (id) => view(await describeBalancer(id)),

    async createBalancer(input: CreateBalancerInput) {
      const created = await createAlb(api, input, options, logger);
      const attributes = new Map([[ALGORITHM_ATTRIBUTE, created.algorithmType]]);
      return toBalancer(created.loadBalancer, [created.listener], attributes);
    },

    // why: an ALB cannot be renamed; port and protocol live on its first listener, the algorithm on
    // its target group. Switching a listener to https needs a certificate, so that stays in AWS.
    async updateBalancer(id, patch) {
      const lb = await describeBalancer(id);
      if (patch.name !== undefined && patch.name !== text(lb.LoadBalancerName)) throw invalid('an application load balancer cannot be renamed', 'name');
      const type = patch.algorithm === undefined ? undefined : algorithmType(patch.algorithm);
      const protocol = patch.protocol?.toLowerCase();
      if (protocol !== undefined && !PROTOCOLS.includes(protocol)) throw invalid(`protocol must be one of ${PROTOCOLS.join(', ')}`, 'protocol');
      if (patch.port !== undefined) checkPort(patch.port, 'port');
      if (patch.port !== undefined || protocol !== undefined) {
        const [listener] = await listenersOf(id);
        if (!listener) throw new ConflictError(`load balancer ${id} has no listener to change`, { provider: DRIVER_NAME });
        if (protocol === 'https' && listener.protocol !== 'HTTPS') {
          throw invalid('switching a listener to https needs a server certificate; change it in AWS', 'protocol');
        }
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html
        const params: Record<string, string> = { ListenerArn: listener.arn };
        if (patch.port !== undefined) params.Port = String(patch.port);
        if (protocol !== undefined) params.Protocol = protocol.toUpperCase();
        await api.call('ModifyListener', params, { idempotent: true });
      }
      if (type !== undefined) {
        const group = await requireTargetGroup(id);
        await api.call('ModifyTargetGroupAttributes', { TargetGroupArn: group.arn, ...structParams('Attributes', algorithmAttributes(type)) }, { idempotent: true });
      }
      return view(lb);
    },

    async destroyBalancer(id) {
      await describeBalancer(id);
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteListener.html
      for (const listener of await listenersOf(id)) await api.call('DeleteListener', { ListenerArn: listener.arn }, { idempotent: true });
      // why: listeners go first, so the owned target group is free; it is found by name, so a retry
      // after a failure here still finds it
      for (const group of await ownedTargetGroups(api, id)) {
        if (group.loadBalancerArns.some((arn) => arn !== id)) {
          logger?.warn('alb: keeping a target group another load balancer still uses', { targetGroupArn: group.arn });
          continue;
        }
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
        await api.call('DeleteTargetGroup', { TargetGroupArn: group.arn }, { idempotent: true });
      }
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html
      await api.call('DeleteLoadBalancer', { LoadBalancerArn: id }, { idempotent: true });
    },

    async listMembers(balancerId) {
      const group = await targetGroupOf(balancerId);
      if (!group) return [];
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
      const result = await api.call('DescribeTargetHealth', { TargetGroupArn: group.arn });
      return members(result.TargetHealthDescriptions)
        .filter((d) => text((d.TargetHealth as XmlObject | undefined)?.State) !== 'draining')
        .flatMap((d) => toMember(d, group.arn) ?? []);
    },

    async attachMember(balancerId, member) {
      if (typeof member?.ip !== 'string' || isIP(member.ip) === 0) throw invalid('member.ip must be an IP address', 'member.ip');
      checkPort(member.port, 'member.port');
      const group = await requireTargetGroup(balancerId);
      if (group.targetType === 'ip') return register(group, member.ip, member.port, member.nodeId ?? null);
      if (group.targetType === 'instance' && member.nodeId !== undefined) {
        return register(group, requireInstanceId(member.nodeId, 'member.nodeId'), member.port, member.nodeId);
      }
      throw invalid(
        `target group ${group.name} takes targets of type ${group.targetType}, not IP addresses` +
          (group.targetType === 'instance' ? '; use attachNode or pass member.nodeId (the instance id)' : ''),
        'member.ip',
      );
    },

    async attachNode(balancerId, node: Node, port) {
      checkPort(port, 'port');
      const group = await requireTargetGroup(balancerId);
      if (group.targetType === 'instance') return register(group, requireInstanceId(node?.id, 'node.id'), port, node.id);
      if (group.targetType !== 'ip') throw invalid(`target group ${group.name} takes targets of type ${group.targetType}, not nodes`, 'node');
      const privateIps = Array.isArray(node?.privateIps) ? node.privateIps : [];
      // why: ip targets must be addresses the VPC routes to; a public address is not one
      const ip = privateIps.find((a) => isIP(a) === 4) ?? privateIps.find((a) => isIP(a) === 6);
      if (ip === undefined) {
        throw invalid(`node ${JSON.stringify(node?.id)} has no private IP address; ALB ip targets are addresses inside the VPC`, 'node.privateIps');
      }
      return register(group, ip, port, node.id);
    },

    async detachMember(balancerId, id) {
      const target = parseMemberId(id);
      const group = await targetGroupOf(balancerId);
      const missing = () => new NotFoundError(`${JSON.stringify(id)} is not a member of load balancer ${balancerId}`, { provider: DRIVER_NAME });
      if (!target || !group) throw missing();
      const targets = structParams('Targets', [{ Id: target.targetId, Port: target.port }]);
      // why: DeregisterTargets accepts targets that are not registered; the contract wants NotFoundError
      const health = await api.call('DescribeTargetHealth', { TargetGroupArn: group.arn, ...targets });
      const current = members(health.TargetHealthDescriptions)[0]?.TargetHealth as XmlObject | undefined;
      const state = text(current?.State);
      if (state === undefined || state === 'draining' || text(current?.Reason) === 'Target.NotRegistered') throw missing();
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
      await api.call('DeregisterTargets', { TargetGroupArn: group.arn, ...targets }, { idempotent: true });
    },
  };
}

// --- Internal helpers ---

/** The target group named and tagged as this balancer's (create.ts); [] when there is none. */
async function ownedTargetGroups(api: ElbApi, balancerArn: string): Promise<AlbTargetGroup[]> {
  const name = ownedTargetGroupName(balancerArn);
  if (name === undefined) return [];
  let groups: AlbTargetGroup[];
  try {
    groups = members((await api.call('DescribeTargetGroups', memberParams('Names', [name]))).TargetGroups).map(toTargetGroup);
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
  if (groups.length === 0) return [];
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html
  const tags = await api.call('DescribeTags', memberParams('ResourceArns', groups.map((g) => g.arn)));
  const owned = new Set(
    members(tags.TagDescriptions)
      .filter((d) => members(d.Tags).some((t) => text(t.Key) === OWNER_TAG && text(t.Value) === balancerArn))
      .flatMap((d) => text(d.ResourceArn) ?? []),
  );
  return groups.filter((g) => owned.has(g.arn));
}

function requireInstanceId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !INSTANCE_ID.test(id)) throw invalid(`${field} must be an EC2 instance id (i-…) for an instance target group`, field);
  return id;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no application load balancer with id ${JSON.stringify(id)}`, { provider: DRIVER_NAME });
}
