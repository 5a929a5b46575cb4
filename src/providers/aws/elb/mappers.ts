/**
 * Classic ELB (2012-06-01) XML -> skygraph models.
 *
 * https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_LoadBalancerDescription.html
 */
import type { Algorithm, LoadBalancer, Member } from '../../types.ts';
import { date, int, members, memberStrings, text, type XmlObject } from './api.ts';

/** One listener of a classic load balancer (`ListenerDescriptions.member.N.Listener`). */
export interface ClassicListener {
  protocol: string;
  port: number;
  instanceProtocol: string;
  instancePort: number;
  sslCertificateId: string | null;
}

/** The fields of a LoadBalancerDescription the driver works with. */
export interface ClassicBalancer {
  name: string;
  listeners: ClassicListener[];
  instanceIds: string[];
  raw: XmlObject;
}

/** Health of one registered instance, from DescribeInstanceHealth. */
export interface InstanceHealth {
  state: string | null;
  reasonCode: string | null;
  description: string | null;
}

export function toClassicBalancer(desc: XmlObject): ClassicBalancer {
  const listeners: ClassicListener[] = [];
  for (const entry of members(desc.ListenerDescriptions)) {
    const l = entry.Listener as XmlObject | undefined;
    const port = int(l?.LoadBalancerPort);
    const instancePort = int(l?.InstancePort);
    if (!l || port === null || instancePort === null) continue;
    listeners.push({
      protocol: (text(l.Protocol) ?? '').toLowerCase(),
      port,
      instanceProtocol: (text(l.InstanceProtocol) ?? text(l.Protocol) ?? '').toLowerCase(),
      instancePort,
      sslCertificateId: text(l.SSLCertificateId) ?? null,
    });
  }
  return {
    name: text(desc.LoadBalancerName) ?? '',
    listeners,
    instanceIds: members(desc.Instances).flatMap((i) => text(i.InstanceId) ?? []),
    raw: desc,
  };
}

/**
 * Classic ELB has no state field: a balancer DescribeLoadBalancers returns is serving, so it is
 * `running`. Its routing is fixed by the listener protocol: round robin for TCP/SSL, least
 * outstanding requests for HTTP/HTTPS, which is none of the Algorithm values, so `algorithm`
 * is null there and `extra.routing` says what it really is.
 */
export function toBalancer(b: ClassicBalancer): LoadBalancer {
  const first = b.listeners[0];
  const desc = b.raw;
  const healthCheck = desc.HealthCheck as XmlObject | undefined;
  return {
    id: b.name,
    name: b.name,
    state: 'running',
    ip: null,
    port: first?.port ?? null,
    protocol: first?.protocol ?? null,
    algorithm: first ? algorithmOf(first.protocol) : null,
    extra: {
      dnsName: text(desc.DNSName) ?? null,
      createdAt: date(desc.CreatedTime)?.toISOString() ?? null,
      scheme: text(desc.Scheme) ?? null,
      vpcId: text(desc.VPCId) ?? null,
      availabilityZones: memberStrings(desc.AvailabilityZones),
      subnets: memberStrings(desc.Subnets),
      securityGroups: memberStrings(desc.SecurityGroups),
      listeners: b.listeners.map((l) => ({ ...l })),
      instanceIds: [...b.instanceIds],
      healthCheckTarget: text(healthCheck?.Target) ?? null,
      routing: first ? routingOf(first.protocol) : null,
    },
  };
}

/** A registered instance as a member: classic ELB knows instances, not addresses. */
export function toMember(instanceId: string, instancePort: number | null, health: InstanceHealth | undefined): Member {
  return {
    id: instanceId,
    ip: null,
    port: instancePort,
    nodeId: instanceId,
    extra: {
      state: health?.state ?? null,
      reasonCode: health?.reasonCode ?? null,
      description: health?.description ?? null,
    },
  };
}

export function toInstanceHealth(result: XmlObject): Map<string, InstanceHealth> {
  const out = new Map<string, InstanceHealth>();
  for (const s of members(result.InstanceStates)) {
    const id = text(s.InstanceId);
    if (id === undefined) continue;
    out.set(id, { state: text(s.State) ?? null, reasonCode: text(s.ReasonCode) ?? null, description: text(s.Description) ?? null });
  }
  return out;
}

// --- Internal helpers ---

function algorithmOf(protocol: string): Algorithm | null {
  return protocol === 'tcp' || protocol === 'ssl' ? 'ROUND_ROBIN' : null;
}

function routingOf(protocol: string): string {
  return protocol === 'tcp' || protocol === 'ssl' ? 'round_robin' : 'least_outstanding_requests';
}
