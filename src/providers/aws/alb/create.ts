/**
 * createBalancer for ALB: input checks, then CreateLoadBalancer, CreateTargetGroup (target type
 * `ip`), ModifyTargetGroupAttributes (algorithm), CreateListener forwarding to the target group,
 * and RegisterTargets for the initial members. A failure after the load balancer exists deletes
 * what was created, so a failed createBalancer leaves nothing behind.
 *
 * The target group is owned by the balancer: it is named `skygraph-<load balancer id>` and
 * tagged `skygraph:balancer=<load balancer ARN>`; destroyBalancer deletes a target group only
 * when both match.
 */
import { isIP } from 'node:net';
import { ConflictError, InvalidInputError, MalformedResponseError, NotFoundError } from '../../errors.ts';
import type { Algorithm, CreateBalancerInput, Logger } from '../../types.ts';
import { memberParams, members, stringList, structParams, text, type ElbApi, type QueryParams, type XmlObject } from '../elb/api.ts';
import { ALGORITHM_ATTRIBUTE, ANOMALY_MITIGATION_ATTRIBUTE, ALGORITHM_TYPES, type AlbListener } from './mappers.ts';

export const DRIVER_NAME = 'alb';
export const PROTOCOLS = ['http', 'https'];
export const SUPPORTED_ALGORITHMS = Object.keys(ALGORITHM_TYPES) as Algorithm[];
export const OWNER_TAG = 'skygraph:balancer';
/** an ALB ARN; group 1 is the name, group 2 the id the owned target group is named after */
export const ALB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/([A-Za-z0-9-]{1,32})\/([0-9a-f]{16})$/;

const NAME = /^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const EX_KEYS = ['subnets', 'securityGroups', 'vpcId', 'scheme', 'certificateArn', 'sslPolicy', 'targetProtocol', 'targetPort', 'healthCheckPath'];

/** Account-level defaults for createBalancer (`options:` of an `alb` account). */
export interface AlbOptions {
  /** subnets in at least two Availability Zones, unless `ex.subnets` is given */
  subnets?: string[];
  /** the VPC of the target groups, unless `ex.vpcId` is given */
  vpcId?: string;
  securityGroups?: string[];
}

/** What a created balancer is made of, for the result and for rollback. */
export interface CreatedBalancer {
  loadBalancer: XmlObject;
  listener: AlbListener;
  algorithmType: string;
}

/** The name of the target group a skygraph-made balancer owns. */
export function ownedTargetGroupName(balancerArn: string): string | undefined {
  const id = ALB_ARN.exec(balancerArn)?.[2];
  return id === undefined ? undefined : `skygraph-${id}`;
}

export async function createAlb(api: ElbApi, input: CreateBalancerInput, options: AlbOptions, logger: Logger | undefined): Promise<CreatedBalancer> {
  const plan = planCreate(input, options);

  // why: CreateLoadBalancer answers an existing balancer with the same settings as if it had made it,
  // and rollback would then delete someone else's balancer
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
  const existing = await api.call('DescribeLoadBalancers', memberParams('Names', [input.name])).catch((err: unknown): XmlObject => {
    if (err instanceof NotFoundError) return {};
    throw err;
  });
  if (members(existing.LoadBalancers).length > 0) {
    throw new ConflictError(`a load balancer named ${JSON.stringify(input.name)} already exists`, { provider: DRIVER_NAME });
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
  const lbResult = await api.call('CreateLoadBalancer', plan.balancer, { idempotent: true });
  const loadBalancer = members(lbResult.LoadBalancers)[0];
  const balancerArn = text(loadBalancer?.LoadBalancerArn);
  const targetGroupName = balancerArn ? ownedTargetGroupName(balancerArn) : undefined;
  if (!loadBalancer || !balancerArn || !targetGroupName) {
    throw new MalformedResponseError('CreateLoadBalancer answered without the ARN of an application load balancer', { provider: DRIVER_NAME });
  }

  let targetGroupArn: string | undefined;
  let listenerArn: string | undefined;
  try {
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    const tgResult = await api.call(
      'CreateTargetGroup',
      { Name: targetGroupName, ...plan.targetGroup, ...structParams('Tags', [{ Key: OWNER_TAG, Value: balancerArn }]) },
      { idempotent: true },
    );
    targetGroupArn = text(members(tgResult.TargetGroups)[0]?.TargetGroupArn);
    if (!targetGroupArn) throw new MalformedResponseError('CreateTargetGroup answered without a TargetGroupArn', { provider: DRIVER_NAME });

    if (plan.attributes.length > 0) {
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyTargetGroupAttributes.html
      await api.call('ModifyTargetGroupAttributes', { TargetGroupArn: targetGroupArn, ...structParams('Attributes', plan.attributes) }, { idempotent: true });
    }

    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    const listenerResult = await api.call(
      'CreateListener',
      { LoadBalancerArn: balancerArn, ...plan.listener, ...structParams('DefaultActions', [{ Type: 'forward', TargetGroupArn: targetGroupArn }]) },
      { idempotent: true },
    );
    listenerArn = text(members(listenerResult.Listeners)[0]?.ListenerArn);
    if (!listenerArn) throw new MalformedResponseError('CreateListener answered without a ListenerArn', { provider: DRIVER_NAME });

    if (plan.targets.length > 0) {
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
      await api.call('RegisterTargets', { TargetGroupArn: targetGroupArn, ...structParams('Targets', plan.targets) }, { idempotent: true });
    }
  } catch (err) {
    await rollback(api, { balancerArn, targetGroupArn, listenerArn }, logger);
    throw err;
  }
  return {
    loadBalancer,
    listener: { arn: listenerArn, port: input.port, protocol: plan.protocol, targetGroupArn },
    algorithmType: plan.algorithmType,
  };
}

// --- Internal helpers ---

interface CreatePlan {
  protocol: string;
  algorithmType: string;
  balancer: QueryParams;
  targetGroup: QueryParams;
  attributes: { Key: string; Value: string }[];
  listener: QueryParams;
  targets: { Id: string; Port: number }[];
}

function planCreate(input: CreateBalancerInput, options: AlbOptions): CreatePlan {
  // why: the algorithm is checked first, so an unsupported one is reported whatever else is wrong
  const type = algorithmType(input.algorithm);
  if (typeof input.name !== 'string' || !NAME.test(input.name)) {
    throw invalid('name must be 1 to 32 letters, digits or hyphens, must not begin or end with a hyphen, and must not begin with "internal-"', 'name');
  }
  const protocol = typeof input.protocol === 'string' ? input.protocol.toLowerCase() : '';
  if (!PROTOCOLS.includes(protocol)) throw invalid(`protocol must be one of ${PROTOCOLS.join(', ')} (application load balancers speak HTTP)`, 'protocol');
  checkPort(input.port, 'port');
  if (!Array.isArray(input.members)) throw invalid('members must be a list', 'members');
  input.members.forEach((m, i) => {
    if (typeof m?.ip !== 'string' || isIP(m.ip) === 0) throw invalid(`members[${i}].ip must be an IP address`, `members[${i}].ip`);
    checkPort(m.port, `members[${i}].port`);
  });

  const ex = input.ex ?? {};
  const unknown = Object.keys(ex).find((k) => !EX_KEYS.includes(k));
  if (unknown !== undefined) throw invalid(`ex.${unknown} is not an alb createBalancer parameter (known: ${EX_KEYS.join(', ')})`, `ex.${unknown}`);
  const subnets = stringList(ex.subnets, 'ex.subnets', invalid) ?? options.subnets ?? [];
  if (subnets.length < 2) {
    throw invalid(
      'an application load balancer needs ex.subnets: at least two subnets in different Availability Zones ' +
        `(${subnets.length === 0 ? 'none given, and the account sets no options.subnets' : 'only one given'})`,
      'ex.subnets',
    );
  }
  const vpcId = ex.vpcId ?? options.vpcId;
  if (typeof vpcId !== 'string' || vpcId === '') {
    throw invalid('the target group needs ex.vpcId (the VPC of the subnets), and the account sets no options.vpcId', 'ex.vpcId');
  }
  const securityGroups = stringList(ex.securityGroups, 'ex.securityGroups', invalid) ?? options.securityGroups ?? [];
  if (ex.scheme !== undefined && ex.scheme !== 'internal' && ex.scheme !== 'internet-facing') {
    throw invalid('ex.scheme must be "internal" or "internet-facing"', 'ex.scheme');
  }
  const certificateArn = ex.certificateArn;
  if (protocol === 'https' && (typeof certificateArn !== 'string' || certificateArn === '')) {
    throw invalid('an https listener needs ex.certificateArn (an ACM or IAM server certificate)', 'ex.certificateArn');
  }
  const targetProtocol = ex.targetProtocol ?? 'http';
  if (typeof targetProtocol !== 'string' || !PROTOCOLS.includes(targetProtocol.toLowerCase())) {
    throw invalid(`ex.targetProtocol must be one of ${PROTOCOLS.join(', ')}`, 'ex.targetProtocol');
  }
  const targetPort = ex.targetPort ?? input.members[0]?.port ?? input.port;
  checkPort(targetPort, 'ex.targetPort');
  if (ex.healthCheckPath !== undefined && (typeof ex.healthCheckPath !== 'string' || !ex.healthCheckPath.startsWith('/'))) {
    throw invalid('ex.healthCheckPath must be a path starting with "/"', 'ex.healthCheckPath');
  }

  const balancer: QueryParams = {
    Name: input.name,
    Type: 'application',
    IpAddressType: 'ipv4',
    ...memberParams('Subnets', subnets),
    ...memberParams('SecurityGroups', securityGroups),
  };
  if (typeof ex.scheme === 'string') balancer.Scheme = ex.scheme;
  const targetGroup: QueryParams = {
    Protocol: targetProtocol.toUpperCase(),
    Port: String(targetPort),
    VpcId: vpcId,
    TargetType: 'ip',
  };
  if (typeof ex.healthCheckPath === 'string') targetGroup.HealthCheckPath = ex.healthCheckPath;
  const listener: QueryParams = { Protocol: protocol.toUpperCase(), Port: String(input.port) };
  if (protocol === 'https') {
    Object.assign(listener, structParams('Certificates', [{ CertificateArn: certificateArn as string }]));
    if (typeof ex.sslPolicy === 'string' && ex.sslPolicy !== '') listener.SslPolicy = ex.sslPolicy;
  }
  // why: round_robin is a new target group's default
  const attributes = type === 'round_robin' ? [] : algorithmAttributes(type);
  return {
    protocol,
    algorithmType: type,
    balancer,
    targetGroup,
    attributes,
    listener,
    targets: input.members.map((m) => ({ Id: m.ip, Port: m.port })),
  };
}

async function rollback(
  api: ElbApi,
  created: { balancerArn: string; targetGroupArn: string | undefined; listenerArn: string | undefined },
  logger: Logger | undefined,
): Promise<void> {
  const steps: [string, QueryParams | undefined][] = [
    ['DeleteListener', created.listenerArn ? { ListenerArn: created.listenerArn } : undefined],
    ['DeleteTargetGroup', created.targetGroupArn ? { TargetGroupArn: created.targetGroupArn } : undefined],
    ['DeleteLoadBalancer', { LoadBalancerArn: created.balancerArn }],
  ];
  for (const [action, params] of steps) {
    if (!params) continue;
    try {
      await api.call(action, params, { idempotent: true });
    } catch (err) {
      logger?.warn('alb: could not undo a failed createBalancer', { action, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Target-group attributes that select `algorithmType`. */
export function algorithmAttributes(algorithmType: string): { Key: string; Value: string }[] {
  // why: weighted_random is only plain random with anomaly mitigation off
  return [{ Key: ALGORITHM_ATTRIBUTE, Value: algorithmType }, ...(algorithmType === 'weighted_random' ? [{ Key: ANOMALY_MITIGATION_ATTRIBUTE, Value: 'off' }] : [])];
}

/** The ALB algorithm type of `algorithm`, or InvalidInputError naming what is supported. */
export function algorithmType(algorithm: Algorithm): string {
  const type = ALGORITHM_TYPES[algorithm];
  if (type === undefined) {
    throw invalid(
      `algorithm ${JSON.stringify(algorithm)} is not supported by application load balancers ` +
        `(supported: ${SUPPORTED_ALGORITHMS.join(', ')}; ALB targets carry no weights and stickiness is by cookie, not source IP)`,
      'algorithm',
    );
  }
  return type;
}

export function checkPort(port: unknown, field: string): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${field} must be an integer from 1 to 65535`, field);
  }
}

export function invalid(message: string, field: string): InvalidInputError {
  return new InvalidInputError(message, { provider: DRIVER_NAME, field });
}
