/** ELBv2 / ALB (2015-12-01): balancers, listeners, target groups and target health, in memory. */
import { isIP } from 'node:net';
import { INSTANCE_IDS, SUBNETS, TEST_ACCOUNT_ID, VPC_ID, type ElbServerOptions } from './constants.ts';
import { page } from './pagination.ts';
import { NAME, PORT, fault, hex, memberStructs, memberValues, spec, type ActionSpec, type ApiImpl, type Params, type View } from './protocol.ts';

interface AppLb {
  arn: string;
  name: string;
  type: 'application' | 'network';
  createdAt: Date;
  subnets: string[];
  securityGroups: string[];
  scheme: string;
  dnsName: string;
}
interface Target {
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: number;
  drainingSince?: number;
}
interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: string;
  vpcId: string;
  targetType: string;
  attributes: Map<string, string>;
  targets: Map<string, Target>;
}
interface Listener {
  arn: string;
  loadBalancerArn: string;
  protocol: string;
  port: string;
  certificateArn?: string;
  sslPolicy?: string;
  targetGroupArn: string;
}

const TG_ATTRIBUTES: [string, string][] = [
  ['deregistration_delay.timeout_seconds', '300'],
  ['stickiness.enabled', 'false'],
  ['stickiness.type', 'lb_cookie'],
  ['load_balancing.algorithm.type', 'round_robin'],
  ['load_balancing.algorithm.anomaly_mitigation', 'off'],
  ['slow_start.duration_seconds', '0'],
];
const ALGORITHM_TYPES = ['round_robin', 'least_outstanding_requests', 'weighted_random'];

export function albApi(region: string, opts: ElbServerOptions): ApiImpl {
  const provisioningMs = opts.provisioningMs ?? 150;
  const max = opts.pageSize ?? 400;
  const lbs = new Map<string, AppLb>();
  const tgs = new Map<string, TargetGroup>();
  const listeners = new Map<string, Listener>();
  const tags = new Map<string, { key: string; value: string }[]>();
  const arnBase = `arn:aws:elasticloadbalancing:${region}:${TEST_ACCOUNT_ID}`;

  const findLb = (arn: string) => {
    if (!/^arn:aws:elasticloadbalancing:[\w-]+:\d{12}:loadbalancer\/(app|net)\/[\w-]+\/[0-9a-f]{16}$/.test(arn)) {
      throw fault('ValidationError', `'${arn}' is not a valid load balancer ARN`);
    }
    const lb = lbs.get(arn);
    if (!lb) throw fault('LoadBalancerNotFound', `Load balancers '[${arn}]' not found`);
    return lb;
  };
  const findTg = (arn: string) => {
    const tg = tgs.get(arn);
    if (!tg) throw fault('TargetGroupNotFound', `Target groups '[${arn}]' not found`);
    return tg;
  };
  const lbView = (lb: AppLb): View => ({
    ...lb,
    createdTime: lb.createdAt.toISOString(),
    vpcId: VPC_ID,
    stateCode: Date.now() - lb.createdAt.getTime() < provisioningMs ? 'provisioning' : 'active',
    zones: lb.subnets.map((subnetId, i) => ({ subnetId, zoneName: `${region}${'abcdef'[i % 6]}` })),
  });
  const usedBy = (tg: TargetGroup) => [...new Set([...listeners.values()].filter((l) => l.targetGroupArn === tg.arn).map((l) => l.loadBalancerArn))];
  const tgView = (tg: TargetGroup): View => ({ ...tg, loadBalancerArns: usedBy(tg) });
  const listenerView = (l: Listener): View => ({ ...l, actions: [{ targetGroupArn: l.targetGroupArn, order: 1 }] });
  const drained = (tg: TargetGroup) => {
    const delay = Number(tg.attributes.get('deregistration_delay.timeout_seconds')) * 1000;
    for (const [key, t] of tg.targets) if (t.drainingSince !== undefined && Date.now() - t.drainingSince >= delay) tg.targets.delete(key);
  };
  const health = (tg: TargetGroup, t: Target | undefined, id: string, port: number) => {
    const base = { id, port, availabilityZone: t?.availabilityZone ?? '' };
    if (!t) return { ...base, state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' };
    if (t.drainingSince !== undefined) return { ...base, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
    if (usedBy(tg).length === 0) return { ...base, state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
    if (Date.now() - t.registeredAt < provisioningMs) return { ...base, state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
    return { ...base, state: 'healthy' };
  };
  const createTg = (name: string, protocol: string, port: string, targetType: string): TargetGroup => {
    const tg: TargetGroup = { arn: `${arnBase}:targetgroup/${name}/${hex(8)}`, name, protocol, port, vpcId: VPC_ID, targetType, attributes: new Map(TG_ATTRIBUTES), targets: new Map() };
    tgs.set(tg.arn, tg);
    return tg;
  };
  const createLb = (name: string, type: AppLb['type'], subnets: string[], securityGroups: string[], scheme: string, createdAt: Date): AppLb => {
    const lb: AppLb = {
      arn: `${arnBase}:loadbalancer/${type === 'application' ? 'app' : 'net'}/${name}/${hex(8)}`,
      name,
      type,
      createdAt,
      subnets,
      securityGroups,
      scheme,
      dnsName: `${scheme === 'internal' ? 'internal-' : ''}${name}-${parseInt(hex(4), 16)}.${region}.elb.amazonaws.com`,
    };
    lbs.set(lb.arn, lb);
    return lb;
  };
  for (let i = 1; i <= (opts.seedBalancers ?? 0); i++) {
    const lb = createLb(`seed-alb-${i}`, 'application', [...SUBNETS], [], 'internet-facing', new Date(Date.UTC(2024, 0, i)));
    const tg = createTg(`seed-alb-${i}-tg`, 'HTTP', '8080', i % 2 ? 'ip' : 'instance');
    if (i % 3 === 0) tg.attributes.set('load_balancing.algorithm.type', 'least_outstanding_requests');
    const arn = `${arnBase}:listener/app/${lb.name}/${lb.arn.slice(-16)}/${hex(8)}`;
    listeners.set(arn, { arn, loadBalancerArn: lb.arn, protocol: 'HTTP', port: '80', targetGroupArn: tg.arn });
  }
  if ((opts.seedBalancers ?? 0) > 0) createLb('seed-nlb', 'network', [...SUBNETS], [], 'internet-facing', new Date(Date.UTC(2024, 1, 1)));

  const tagList = /^Tags\.member\.[1-9]\d*\.(Key|Value)$/;
  const targetList = /^Targets\.member\.[1-9]\d*\.(Id|Port|AvailabilityZone)$/;
  const specs: Record<string, ActionSpec> = {
    DescribeLoadBalancers: spec('describe-load-balancers', [], ['LoadBalancerArns.member.N', 'Names.member.N', 'Marker', 'PageSize']),
    CreateLoadBalancer: spec('create-load-balancer', ['Name'], ['Subnets.member.N', 'SecurityGroups.member.N', 'Scheme', 'Type', 'IpAddressType', tagList]),
    DeleteLoadBalancer: spec('delete-load-balancer', ['LoadBalancerArn']),
    CreateTargetGroup: spec('create-target-group', ['Name'], ['Protocol', 'Port', 'VpcId', 'TargetType', 'HealthCheckPath', tagList]),
    DescribeTargetGroups: spec('describe-target-groups', [], ['LoadBalancerArn', 'TargetGroupArns.member.N', 'Names.member.N', 'Marker', 'PageSize']),
    DeleteTargetGroup: spec('delete-target-group', ['TargetGroupArn']),
    DescribeTargetGroupAttributes: spec('describe-target-group-attributes', ['TargetGroupArn']),
    ModifyTargetGroupAttributes: spec('modify-target-group-attributes', ['TargetGroupArn', 'Attributes.member.1.Key'], [/^Attributes\.member\.[1-9]\d*\.(Key|Value)$/]),
    CreateListener: spec(
      'create-listener',
      ['LoadBalancerArn', 'Protocol', 'Port', 'DefaultActions.member.1.Type', 'DefaultActions.member.1.TargetGroupArn'],
      ['SslPolicy', 'Certificates.member.N.CertificateArn'],
    ),
    DescribeListeners: spec('describe-listeners', [], ['LoadBalancerArn', 'ListenerArns.member.N', 'Marker', 'PageSize']),
    DeleteListener: spec('delete-listener', ['ListenerArn']),
    ModifyListener: spec('modify-listener', ['ListenerArn'], ['Port', 'Protocol', 'SslPolicy', 'Certificates.member.N.CertificateArn']),
    RegisterTargets: spec('register-targets', ['TargetGroupArn', 'Targets.member.1.Id'], [targetList]),
    DeregisterTargets: spec('deregister-targets', ['TargetGroupArn', 'Targets.member.1.Id'], [targetList]),
    DescribeTargetHealth: spec('describe-target-health', ['TargetGroupArn'], [targetList]),
    DescribeTags: spec('describe-tags', ['ResourceArns.member.1'], ['ResourceArns.member.N']),
  };

  const targetsOf = (p: Params, tg: TargetGroup) =>
    memberStructs(p, 'Targets').map((t) => ({ id: t.Id ?? '', port: Number(t.Port ?? tg.port), availabilityZone: t.AvailabilityZone }));

  const handlers: ApiImpl['handlers'] = {
    DescribeLoadBalancers(p) {
      const arns = memberValues(p, 'LoadBalancerArns');
      const names = memberValues(p, 'Names');
      let all = [...lbs.values()];
      if (arns.length > 0) all = arns.map(findLb);
      if (names.length > 0) {
        all = names.map((n) => all.find((lb) => lb.name === n) ?? null).filter((lb): lb is AppLb => lb !== null);
        if (all.length < names.length) throw fault('LoadBalancerNotFound', `One or more load balancers not found`);
      }
      const { items, nextMarker } = page(all, p, max);
      return { balancers: items.map(lbView), nextMarker };
    },
    CreateLoadBalancer(p) {
      const name = p.get('Name')!;
      if (!NAME.test(name) || name.startsWith('internal-')) throw fault('ValidationError', `The load balancer name '${name}' is not valid`);
      if ((p.get('Type') ?? 'application') !== 'application') throw fault('ValidationError', 'This server only makes application load balancers');
      const subnets = memberValues(p, 'Subnets');
      for (const s of subnets) if (!(SUBNETS as readonly string[]).includes(s)) throw fault('SubnetNotFound', `The subnet ID '${s}' is not valid`);
      if (new Set(subnets).size < 2) throw fault('ValidationError', 'At least two subnets in two different Availability Zones must be specified');
      const securityGroups = memberValues(p, 'SecurityGroups');
      for (const g of securityGroups) if (!/^sg-[0-9a-f]{8,17}$/.test(g)) throw fault('InvalidSecurityGroup', `Security group '${g}' does not exist`);
      if ([...lbs.values()].some((lb) => lb.name === name)) throw fault('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists, but with different settings`);
      const lb = createLb(name, 'application', subnets, securityGroups, p.get('Scheme') ?? 'internet-facing', new Date());
      return { balancers: [lbView(lb)] };
    },
    DeleteLoadBalancer(p) {
      const lb = findLb(p.get('LoadBalancerArn')!);
      for (const l of [...listeners.values()]) if (l.loadBalancerArn === lb.arn) listeners.delete(l.arn);
      lbs.delete(lb.arn);
      tags.delete(lb.arn);
      return {};
    },
    CreateTargetGroup(p) {
      const name = p.get('Name')!;
      if (!NAME.test(name)) throw fault('ValidationError', `Target group name '${name}' is not valid`);
      const targetType = p.get('TargetType') ?? 'instance';
      if (!['instance', 'ip', 'lambda', 'alb'].includes(targetType)) throw fault('ValidationError', `Invalid TargetType ${targetType}`);
      const protocol = p.get('Protocol') ?? '';
      const port = p.get('Port') ?? '';
      if (targetType !== 'lambda' && (!protocol || !PORT(port) || !p.get('VpcId'))) throw fault('ValidationError', 'A protocol, port and VPC ID must be specified');
      if (p.get('VpcId') !== VPC_ID) throw fault('ValidationError', `The VPC ID '${p.get('VpcId')}' is not found`);
      if ([...tgs.values()].some((tg) => tg.name === name)) throw fault('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
      const tg = createTg(name, protocol, port, targetType);
      const given = memberStructs(p, 'Tags').map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
      if (given.length > 0) tags.set(tg.arn, given);
      return { targetGroups: [tgView(tg)] };
    },
    DescribeTargetGroups(p) {
      const lbArn = p.get('LoadBalancerArn');
      const arns = memberValues(p, 'TargetGroupArns');
      const names = memberValues(p, 'Names');
      let all = [...tgs.values()];
      if (lbArn) {
        const lb = findLb(lbArn);
        all = all.filter((tg) => usedBy(tg).includes(lb.arn));
      }
      if (arns.length > 0) all = arns.map(findTg);
      if (names.length > 0) {
        all = names.map((n) => [...tgs.values()].find((tg) => tg.name === n) ?? null).filter((tg): tg is TargetGroup => tg !== null);
        if (all.length < names.length) throw fault('TargetGroupNotFound', 'One or more target groups not found');
      }
      const { items, nextMarker } = page(all, p, max);
      return { targetGroups: items.map(tgView), nextMarker };
    },
    DeleteTargetGroup(p) {
      const tg = tgs.get(p.get('TargetGroupArn')!);
      if (tg && usedBy(tg).length > 0) throw fault('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
      if (tg) tgs.delete(tg.arn);
      return {};
    },
    DescribeTargetGroupAttributes(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      return { attributes: [...tg.attributes].map(([key, value]) => ({ key, value })) };
    },
    ModifyTargetGroupAttributes(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      const changes = memberStructs(p, 'Attributes');
      const next = new Map(tg.attributes);
      for (const { Key: key = '', Value: value = '' } of changes) {
        if (!next.has(key)) throw fault('InvalidConfigurationRequest', `Attribute key '${key}' is not recognized`);
        if (key === 'load_balancing.algorithm.type' && !ALGORITHM_TYPES.includes(value)) throw fault('ValidationError', `'${value}' is not a valid load balancing algorithm`);
        next.set(key, value);
      }
      if (next.get('load_balancing.algorithm.anomaly_mitigation') === 'on' && next.get('load_balancing.algorithm.type') !== 'weighted_random') {
        throw fault('InvalidConfigurationRequest', 'Anomaly mitigation is only supported with the weighted_random algorithm');
      }
      tg.attributes = next;
      return { attributes: [...next].map(([key, value]) => ({ key, value })) };
    },
    CreateListener(p) {
      const lb = findLb(p.get('LoadBalancerArn')!);
      const protocol = p.get('Protocol')!;
      const port = p.get('Port')!;
      if (!['HTTP', 'HTTPS'].includes(protocol)) throw fault('ValidationError', `Listener protocol '${protocol}' must be one of 'HTTPS, HTTP'`);
      if (!PORT(port)) throw fault('ValidationError', 'Invalid port');
      if (p.get('DefaultActions.member.1.Type') !== 'forward') throw fault('ValidationError', 'This server only supports forward actions');
      const tg = findTg(p.get('DefaultActions.member.1.TargetGroupArn')!);
      if (!['HTTP', 'HTTPS'].includes(tg.protocol)) throw fault('IncompatibleProtocols', `The target group protocol '${tg.protocol}' is not compatible with an application load balancer`);
      const certificateArn = p.get('Certificates.member.1.CertificateArn') ?? undefined;
      if (protocol === 'HTTPS' && !certificateArn) throw fault('ValidationError', 'A certificate must be specified for HTTPS listeners');
      if ([...listeners.values()].some((l) => l.loadBalancerArn === lb.arn && l.port === port)) throw fault('DuplicateListener', 'A listener already exists on this port for this load balancer');
      const l: Listener = {
        arn: `${arnBase}:listener/app/${lb.name}/${lb.arn.slice(-16)}/${hex(8)}`,
        loadBalancerArn: lb.arn,
        protocol,
        port,
        targetGroupArn: tg.arn,
        ...(certificateArn ? { certificateArn, sslPolicy: p.get('SslPolicy') ?? 'ELBSecurityPolicy-2016-08' } : {}),
      };
      listeners.set(l.arn, l);
      return { listeners: [listenerView(l)] };
    },
    DescribeListeners(p) {
      const lbArn = p.get('LoadBalancerArn');
      const arns = memberValues(p, 'ListenerArns');
      let all = [...listeners.values()];
      if (lbArn) {
        const lb = findLb(lbArn);
        all = all.filter((l) => l.loadBalancerArn === lb.arn);
      }
      if (arns.length > 0) all = all.filter((l) => arns.includes(l.arn));
      const { items, nextMarker } = page(all, p, max);
      return { listeners: items.map(listenerView), nextMarker };
    },
    DeleteListener(p) {
      if (!listeners.delete(p.get('ListenerArn')!)) throw fault('ListenerNotFound', 'One or more listeners not found');
      return {};
    },
    ModifyListener(p) {
      const l = listeners.get(p.get('ListenerArn')!);
      if (!l) throw fault('ListenerNotFound', 'One or more listeners not found');
      const protocol = p.get('Protocol') ?? l.protocol;
      const port = p.get('Port') ?? l.port;
      if (!['HTTP', 'HTTPS'].includes(protocol)) throw fault('ValidationError', `Listener protocol '${protocol}' must be one of 'HTTPS, HTTP'`);
      if (!PORT(port)) throw fault('ValidationError', 'Invalid port');
      const certificateArn = p.get('Certificates.member.1.CertificateArn') ?? l.certificateArn;
      if (protocol === 'HTTPS' && !certificateArn) throw fault('ValidationError', 'A certificate must be specified for HTTPS listeners');
      if ([...listeners.values()].some((o) => o !== l && o.loadBalancerArn === l.loadBalancerArn && o.port === port)) {
        throw fault('DuplicateListener', 'A listener already exists on this port for this load balancer');
      }
      Object.assign(l, { protocol, port });
      return { listeners: [listenerView(l)] };
    },
    RegisterTargets(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      for (const t of targetsOf(p, tg)) {
        if (!PORT(String(t.port))) throw fault('ValidationError', `Invalid port ${t.port}`);
        if (tg.targetType === 'ip') {
          if (isIP(t.id) === 0) throw fault('InvalidTarget', `The IP address '${t.id}' is not a valid IPv4 address`);
          if (!t.id.startsWith('10.0.') && t.availabilityZone !== 'all') {
            throw fault('ValidationError', `The IP address '${t.id}' is not within the VPC CIDR of the target group's VPC; register it with AvailabilityZone 'all'`);
          }
        } else if (!(INSTANCE_IDS as readonly string[]).includes(t.id)) {
          throw fault('InvalidTarget', `The following targets are not in a running state and cannot be registered: '${t.id}'`);
        }
        tg.targets.set(`${t.id}:${t.port}`, { ...t, registeredAt: Date.now() });
      }
      return {};
    },
    DeregisterTargets(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      drained(tg);
      for (const t of targetsOf(p, tg)) {
        const known = tg.targets.get(`${t.id}:${t.port}`);
        if (!known) throw fault('InvalidTarget', `The target '${t.id}:${t.port}' is not registered with the target group`);
        known.drainingSince ??= Date.now();
      }
      return {};
    },
    DescribeTargetHealth(p) {
      const tg = findTg(p.get('TargetGroupArn')!);
      drained(tg);
      const asked = targetsOf(p, tg);
      const targets =
        asked.length > 0
          ? asked.map((t) => health(tg, tg.targets.get(`${t.id}:${t.port}`), t.id, t.port))
          : [...tg.targets.values()].map((t) => health(tg, t, t.id, t.port));
      return { targets };
    },
    DescribeTags(p) {
      const arns = memberValues(p, 'ResourceArns');
      if (arns.length > 20) throw fault('ValidationError', 'At most 20 resource ARNs');
      for (const arn of arns) {
        if (arn.includes(':targetgroup/')) findTg(arn);
        else findLb(arn);
      }
      return { descriptions: arns.map((arn) => ({ arn, tags: tags.get(arn) ?? [] })) };
    },
  };
  return { specs, handlers };
}
