/** Classic ELB (2012-06-01): balancers with listeners, registered instances and their health, in memory. */
import { INSTANCE_IDS, SUBNETS, VPC_ID, type ElbServerOptions } from './constants.ts';
import { page } from './pagination.ts';
import { NAME, PORT, fault, hex, memberStructs, memberValues, spec, type ActionSpec, type ApiImpl, type Params, type View } from './protocol.ts';

interface ClassicLb {
  name: string;
  createdAt: Date;
  listeners: { protocol: string; loadBalancerPort: string; instanceProtocol: string; instancePort: string; sslCertificateId?: string }[];
  availabilityZones: string[];
  subnets: string[];
  securityGroups: string[];
  scheme: string;
  dnsName: string;
  /** instance id -> registration time (ms) */
  instances: Map<string, number>;
}

export function classicApi(region: string, opts: ElbServerOptions): ApiImpl {
  const lbs = new Map<string, ClassicLb>();
  const provisioningMs = opts.provisioningMs ?? 150;
  const find = (name: string) => {
    const lb = lbs.get(name);
    if (!lb) throw fault('LoadBalancerNotFound', `There is no ACTIVE Load Balancer named '${name}'`);
    return lb;
  };
  const viewOf = (lb: ClassicLb): View => ({
    ...lb,
    createdTime: lb.createdAt.toISOString(),
    instances: [...lb.instances.keys()],
    vpcId: lb.subnets.length > 0 ? VPC_ID : '',
    healthCheckTarget: `TCP:${lb.listeners[0]?.instancePort ?? 80}`,
  });
  const instanceIds = (p: Params) => memberStructs(p, 'Instances').map((s) => s.InstanceId ?? '');
  const listenersOf = (p: Params): ClassicLb['listeners'] => {
    const listeners = memberStructs(p, 'Listeners').map((l) => ({
      protocol: (l.Protocol ?? '').toUpperCase(),
      loadBalancerPort: l.LoadBalancerPort ?? '',
      instanceProtocol: (l.InstanceProtocol ?? l.Protocol ?? '').toUpperCase(),
      instancePort: l.InstancePort ?? '',
      ...(l.SSLCertificateId ? { sslCertificateId: l.SSLCertificateId } : {}),
    }));
    for (const l of listeners) {
      if (!['HTTP', 'HTTPS', 'TCP', 'SSL'].includes(l.protocol)) throw fault('ValidationError', `Invalid protocol ${l.protocol}`);
      if (!PORT(l.loadBalancerPort) || !PORT(l.instancePort)) throw fault('ValidationError', 'Invalid port');
      const layer7 = (x: string) => x === 'HTTP' || x === 'HTTPS';
      if (layer7(l.protocol) !== layer7(l.instanceProtocol)) throw fault('InvalidConfigurationRequest', 'Incompatible InstanceProtocol');
      if ((l.protocol === 'HTTPS' || l.protocol === 'SSL') && !l.sslCertificateId) throw fault('ValidationError', 'SSLCertificateId is required for HTTPS and SSL listeners');
    }
    return listeners;
  };
  for (let i = 1; i <= (opts.seedBalancers ?? 0); i++) {
    const name = `seed-elb-${i}`;
    lbs.set(name, {
      name,
      createdAt: new Date(Date.UTC(2024, 0, i)),
      listeners: [{ protocol: i % 2 ? 'HTTP' : 'TCP', loadBalancerPort: '80', instanceProtocol: i % 2 ? 'HTTP' : 'TCP', instancePort: '8080' }],
      availabilityZones: [`${region}a`],
      subnets: [],
      securityGroups: [],
      scheme: 'internet-facing',
      dnsName: `${name}-${100000 + i}.${region}.elb.amazonaws.com`,
      instances: new Map([[INSTANCE_IDS[0], 0]]),
    });
  }

  const specs: Record<string, ActionSpec> = {
    DescribeLoadBalancers: spec('describe-load-balancers', [], ['LoadBalancerNames.member.N', 'Marker', 'PageSize']),
    CreateLoadBalancer: spec(
      'create-load-balancer',
      ['LoadBalancerName', 'Listeners.member.1.Protocol', 'Listeners.member.1.LoadBalancerPort', 'Listeners.member.1.InstancePort'],
      [/^Listeners\.member\.[1-9]\d*\.(Protocol|LoadBalancerPort|InstanceProtocol|InstancePort|SSLCertificateId)$/, 'AvailabilityZones.member.N', 'Subnets.member.N', 'SecurityGroups.member.N', 'Scheme', /^Tags\.member\.[1-9]\d*\.(Key|Value)$/],
    ),
    DeleteLoadBalancer: spec('delete-load-balancer', ['LoadBalancerName']),
    CreateLoadBalancerListeners: spec(
      'create-load-balancer-listeners',
      ['LoadBalancerName', 'Listeners.member.1.Protocol', 'Listeners.member.1.LoadBalancerPort', 'Listeners.member.1.InstancePort'],
      [/^Listeners\.member\.[1-9]\d*\.(Protocol|LoadBalancerPort|InstanceProtocol|InstancePort|SSLCertificateId)$/],
    ),
    DeleteLoadBalancerListeners: spec('delete-load-balancer-listeners', ['LoadBalancerName', 'LoadBalancerPorts.member.1'], ['LoadBalancerPorts.member.N']),
    RegisterInstancesWithLoadBalancer: spec('register-instances-with-load-balancer', ['LoadBalancerName', 'Instances.member.1.InstanceId'], ['Instances.member.N.InstanceId']),
    DeregisterInstancesFromLoadBalancer: spec('deregister-instances-from-load-balancer', ['LoadBalancerName', 'Instances.member.1.InstanceId'], ['Instances.member.N.InstanceId']),
    DescribeInstanceHealth: spec('describe-instance-health', ['LoadBalancerName'], ['Instances.member.N.InstanceId']),
  };

  const handlers: ApiImpl['handlers'] = {
    DescribeLoadBalancers(p) {
      const names = memberValues(p, 'LoadBalancerNames');
      const all = names.length > 0 ? names.map(find) : [...lbs.values()];
      const { items, nextMarker } = page(all, p, opts.pageSize ?? 400);
      return { balancers: items.map(viewOf), nextMarker };
    },
    CreateLoadBalancer(p) {
      const name = p.get('LoadBalancerName')!;
      if (!NAME.test(name)) throw fault('ValidationError', `LoadBalancerName '${name}' is not valid`);
      const listeners = listenersOf(p);
      const availabilityZones = memberValues(p, 'AvailabilityZones');
      const subnets = memberValues(p, 'Subnets');
      if ((availabilityZones.length > 0) === (subnets.length > 0)) throw fault('ValidationError', 'Specify either AvailabilityZones or Subnets');
      for (const z of availabilityZones) if (!new RegExp(`^${region}[a-f]$`).test(z)) throw fault('ValidationError', `Invalid Availability Zone: ${z}`);
      for (const s of subnets) if (!(SUBNETS as readonly string[]).includes(s)) throw fault('SubnetNotFound', `The subnet ID '${s}' does not exist`);
      const existing = lbs.get(name);
      if (existing) {
        if (JSON.stringify(existing.listeners) !== JSON.stringify(listeners)) {
          throw fault('DuplicateLoadBalancerName', `Load Balancer named '${name}' already exists and it is configured with different parameters.`);
        }
        return { dnsName: existing.dnsName };
      }
      const lb: ClassicLb = {
        name,
        createdAt: new Date(),
        listeners,
        availabilityZones,
        subnets,
        securityGroups: memberValues(p, 'SecurityGroups'),
        scheme: p.get('Scheme') ?? 'internet-facing',
        dnsName: `${name}-${parseInt(hex(4), 16)}.${region}.elb.amazonaws.com`,
        instances: new Map(),
      };
      lbs.set(name, lb);
      return { dnsName: lb.dnsName };
    },
    DeleteLoadBalancer(p) {
      lbs.delete(p.get('LoadBalancerName')!);
      return {};
    },
    CreateLoadBalancerListeners(p) {
      const lb = find(p.get('LoadBalancerName')!);
      for (const l of listenersOf(p)) {
        const same = lb.listeners.find((o) => o.loadBalancerPort === l.loadBalancerPort);
        if (same && JSON.stringify(same) !== JSON.stringify(l)) throw fault('DuplicateListener', `A listener already exists for ${lb.name} with LoadBalancerPort ${l.loadBalancerPort}, but with a different configuration`);
        if (!same) lb.listeners.push(l);
      }
      return {};
    },
    DeleteLoadBalancerListeners(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const ports = memberValues(p, 'LoadBalancerPorts');
      lb.listeners = lb.listeners.filter((l) => !ports.includes(l.loadBalancerPort));
      return {};
    },
    RegisterInstancesWithLoadBalancer(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const ids = instanceIds(p);
      for (const id of ids) if (!(INSTANCE_IDS as readonly string[]).includes(id)) throw fault('InvalidInstance', `EC2 instance ${id} is not in running state or does not exist.`);
      for (const id of ids) if (!lb.instances.has(id)) lb.instances.set(id, Date.now());
      return { instances: [...lb.instances.keys()] };
    },
    DeregisterInstancesFromLoadBalancer(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const ids = instanceIds(p);
      for (const id of ids) if (!lb.instances.has(id)) throw fault('InvalidInstance', `The instance ${id} is not registered with the load balancer.`);
      for (const id of ids) lb.instances.delete(id);
      return { instances: [...lb.instances.keys()] };
    },
    DescribeInstanceHealth(p) {
      const lb = find(p.get('LoadBalancerName')!);
      const asked = instanceIds(p);
      const ids = asked.length > 0 ? asked : [...lb.instances.keys()];
      return {
        states: ids.map((id) => {
          const at = lb.instances.get(id);
          if (at === undefined) return { instanceId: id, state: 'OutOfService', reasonCode: 'N/A', description: 'Instance is not currently registered with the LoadBalancer.' };
          if (Date.now() - at < provisioningMs) return { instanceId: id, state: 'OutOfService', reasonCode: 'ELB', description: 'Instance registration is still in progress.' };
          return { instanceId: id, state: 'InService', reasonCode: 'N/A', description: 'N/A' };
        }),
      };
    },
  };
  return { specs, handlers };
}
