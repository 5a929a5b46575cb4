/**
 * ELBv2 (2015-12-01) XML -> skygraph models, and the algorithm and state tables.
 *
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancer.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealthDescription.html
 */
import { isIP } from 'node:net';
import type { Algorithm, BalancerState, LoadBalancer, Member } from '../../types.ts';
import { date, int, members, memberStrings, text, type XmlObject } from '../elb/api.ts';

/**
 * Algorithm -> `load_balancing.algorithm.type` of the target group.
 *
 * - LEAST_CONNECTIONS -> least_outstanding_requests: an ALB proxies HTTP, and the requests in
 *   flight to a target are the connections it holds open to it, so routing to the target with
 *   the fewest outstanding requests is least-connections at layer 7.
 * - RANDOM -> weighted_random with anomaly mitigation off: every target has the same weight, so
 *   requests are spread at random. With mitigation on the weights move, so that reads as null.
 * - Not offered: WEIGHTED_* (targets carry no weights in ALB), SOURCE_IP (stickiness is by cookie).
 *
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#modify-routing-algorithm
 */
export const ALGORITHM_TYPES: Partial<Record<Algorithm, string>> = {
  ROUND_ROBIN: 'round_robin',
  LEAST_CONNECTIONS: 'least_outstanding_requests',
  RANDOM: 'weighted_random',
};
export const ALGORITHM_ATTRIBUTE = 'load_balancing.algorithm.type';
export const ANOMALY_MITIGATION_ATTRIBUTE = 'load_balancing.algorithm.anomaly_mitigation';

/**
 * `State.Code` -> BalancerState. `active_impaired` routes traffic but cannot scale, so it is
 * still running (the code is kept in `extra.stateCode`).
 */
const BALANCER_STATE: Record<string, BalancerState> = {
  provisioning: 'pending',
  active: 'running',
  active_impaired: 'running',
  failed: 'error',
};

/** A listener, reduced to what the driver uses. */
export interface AlbListener {
  arn: string;
  port: number | null;
  protocol: string | null;
  /** the target group of the default forward action, when there is one */
  targetGroupArn: string | null;
}

/** A target group, reduced to what the driver uses. */
export interface AlbTargetGroup {
  arn: string;
  name: string;
  targetType: string;
  port: number | null;
  loadBalancerArns: string[];
}

export function toListener(l: XmlObject): AlbListener {
  const forward = members(l.DefaultActions).find((a) => text(a.Type) === 'forward');
  const forwardConfig = forward?.ForwardConfig as XmlObject | undefined;
  const targetGroupArn = text(forward?.TargetGroupArn) ?? text(members(forwardConfig?.TargetGroups)[0]?.TargetGroupArn) ?? null;
  return {
    arn: text(l.ListenerArn) ?? '',
    port: int(l.Port),
    protocol: text(l.Protocol)?.toLowerCase() ?? null,
    targetGroupArn,
  };
}

export function toTargetGroup(tg: XmlObject): AlbTargetGroup {
  return {
    arn: text(tg.TargetGroupArn) ?? '',
    name: text(tg.TargetGroupName) ?? '',
    targetType: text(tg.TargetType) ?? 'instance',
    port: int(tg.Port),
    loadBalancerArns: memberStrings(tg.LoadBalancerArns),
  };
}

/** `Attributes.member.N` -> key/value map */
export function toAttributes(result: XmlObject): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of members(result.Attributes)) {
    const key = text(a.Key);
    if (key !== undefined) out.set(key, typeof a.Value === 'string' ? a.Value : '');
  }
  return out;
}

/** The Algorithm a target group's attributes amount to; null when none of ours matches. */
export function algorithmOf(attributes: Map<string, string> | undefined): Algorithm | null {
  const type = attributes?.get(ALGORITHM_ATTRIBUTE) ?? 'round_robin';
  if (type === 'weighted_random' && attributes?.get(ANOMALY_MITIGATION_ATTRIBUTE) === 'on') return null;
  const entry = Object.entries(ALGORITHM_TYPES).find(([, t]) => t === type);
  return entry ? (entry[0] as Algorithm) : null;
}

export function toBalancer(
  lb: XmlObject,
  listeners: readonly AlbListener[],
  attributes: Map<string, string> | undefined,
): LoadBalancer {
  const first = listeners[0];
  const stateCode = text((lb.State as XmlObject | undefined)?.Code) ?? null;
  return {
    id: text(lb.LoadBalancerArn) ?? '',
    name: text(lb.LoadBalancerName) ?? '',
    state: (stateCode !== null ? BALANCER_STATE[stateCode] : undefined) ?? 'unknown',
    ip: null,
    port: first?.port ?? null,
    protocol: first?.protocol ?? null,
    algorithm: first?.targetGroupArn ? algorithmOf(attributes) : null,
    extra: {
      dnsName: text(lb.DNSName) ?? null,
      createdAt: date(lb.CreatedTime)?.toISOString() ?? null,
      scheme: text(lb.Scheme) ?? null,
      type: text(lb.Type) ?? null,
      vpcId: text(lb.VpcId) ?? null,
      stateCode,
      stateReason: text((lb.State as XmlObject | undefined)?.Reason) ?? null,
      availabilityZones: members(lb.AvailabilityZones).map((z) => ({ zoneName: text(z.ZoneName) ?? null, subnetId: text(z.SubnetId) ?? null })),
      securityGroups: memberStrings(lb.SecurityGroups),
      listeners: listeners.map((l) => ({ ...l })),
      targetGroupArn: first?.targetGroupArn ?? null,
      loadBalancingAlgorithm: first?.targetGroupArn ? (attributes?.get(ALGORITHM_ATTRIBUTE) ?? null) : null,
    },
  };
}

/** Member id: `ip:port` (`[ipv6]:port`), or `instanceId:port` for instance targets. */
export function memberId(targetId: string, port: number): string {
  return isIP(targetId) === 6 ? `[${targetId}]:${port}` : `${targetId}:${port}`;
}

/** The target of a member id; undefined when it is not one. */
export function parseMemberId(id: string): { targetId: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(id);
  const targetId = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (targetId === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { targetId, port };
}

export function toMember(desc: XmlObject, targetGroupArn: string): Member | undefined {
  const target = desc.Target as XmlObject | undefined;
  const id = text(target?.Id);
  const port = int(target?.Port);
  if (id === undefined || port === null) return undefined;
  const health = desc.TargetHealth as XmlObject | undefined;
  return {
    id: memberId(id, port),
    ip: isIP(id) ? id : null,
    port,
    nodeId: /^i-[0-9a-f]+$/.test(id) ? id : null,
    extra: {
      targetGroupArn,
      state: text(health?.State) ?? null,
      reason: text(health?.Reason) ?? null,
      description: text(health?.Description) ?? null,
      availabilityZone: text(target?.AvailabilityZone) ?? null,
    },
  };
}
