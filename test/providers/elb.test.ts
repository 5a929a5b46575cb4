/**
 * Classic ELB. Classic ELB registers EC2 instances, not addresses, and they all take traffic on
 * the listeners' instance ports, so the shared load-balancer conformance suite runs in its
 * 'instance' member mode. The cases after it cover what is particular to classic ELB (listener
 * and health mapping, instance ids given to attachMember, refusals before sending anything).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElbProvider, elbProvider, validateElbAccount } from '../../src/providers/aws/elb/index.ts';
import { AuthenticationError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import { ALGORITHMS, type AccountConfig, type LoadBalancer, type LoadBalancerDriver, type Node } from '../../src/providers/types.ts';
import { expectDeclaredCapabilities, expectTypedError, modelChecks, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { LOADBALANCER_OPTIONAL_METHODS, testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { INSTANCE_IDS, SUBNETS, TEST_CREDENTIALS, startElbServer, type ElbServer, type ElbServerOptions } from '../helpers/elb-server/index.ts';

const SECRET = TEST_CREDENTIALS.secretAccessKey;
const ZONES = { availabilityZones: ['us-east-1a', 'us-east-1b'] };
const check = modelChecks([SECRET]);

type Harness = DriverHarness<ElbServer, LoadBalancerDriver>;

async function harness(serverOpts: Partial<ElbServerOptions> = {}, account: Partial<AccountConfig> = {}): Promise<Harness> {
  const server = await startElbServer({ api: 'elb', ...serverOpts });
  const ctx = testDriverContext(
    { driver: 'elb', regions: ['us-east-1'], endpoint: server.url, credentials: { ...TEST_CREDENTIALS }, ...account },
    { region: 'us-east-1' },
  );
  const instance = createElbProvider({ env: {}, retry: { baseDelayMs: 5, maxDelayMs: 20 } }).create(ctx);
  return driverHarness(server, ctx, instance, instance.loadBalancer!);
}

const ec2Node = (id: string): Node => ({
  id,
  name: 'web',
  state: 'running',
  publicIps: ['192.0.2.10'],
  privateIps: ['10.0.0.13'],
  sizeId: 't3.micro',
  imageId: null,
  locationId: 'us-east-1a',
  createdAt: null,
  tags: {},
  extra: {},
});

testLoadBalancerDriver({
  name: 'elb',
  async create() {
    const h = await harness({}, { options: ZONES });
    return conformanceTarget(h);
  },
  capabilities: ['attachNode', 'updateBalancer'],
  memberMode: 'instance',
  nodes: INSTANCE_IDS.map(ec2Node),
  createInput: (base, nodes) => ({ ...base, ex: { instanceIds: nodes.map((n) => n.id), instancePort: 8080 } }),
  memberPort: 8080,
  waitFor: pollUntil({ intervalMs: 50, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  secrets: [SECRET],
});

describe('elb provider', () => {
  it('is registered as a regional load-balancer provider', async () => {
    expect(await loadProvider('elb')).toBe(elbProvider);
    expect(elbProvider).toMatchObject({ name: 'elb', services: ['LOADBALANCER'], regional: true, defaultRegion: 'us-east-1' });
  });

  it('validates its options, naming the field and never the value', () => {
    const account = (options: Record<string, unknown>) => testDriverContext({ driver: 'elb', options }).account;
    expect(validateElbAccount(account(ZONES))).toEqual([]);
    expect(validateElbAccount(account({ availabilityZones: 'us-east-1a', subnets: [''] }))).toEqual([
      'options.availabilityZones must be a list of non-empty strings',
      'options.subnets must be a list of non-empty strings',
      'options.availabilityZones and options.subnets cannot both be set (a classic load balancer uses one or the other)',
    ]);
  });
});

describe('loadbalancer: elb (classic round trip)', () => {
  let h: Harness;
  let balancer: LoadBalancer | undefined;
  const name = uniqueName();
  const requireBalancer = () => {
    if (!balancer) throw new Error('no balancer: the createBalancer test failed');
    return balancer;
  };

  beforeAll(async () => {
    h = await harness({}, { options: ZONES });
  });
  afterAll(async () => {
    await h.close();
    expect(h.server.failures).toEqual([]);
  });

  it('declares exactly the optional methods it has', () => {
    expectDeclaredCapabilities(h.driver, LOADBALANCER_OPTIONAL_METHODS, ['attachNode', 'updateBalancer']);
  });

  it('lists protocols and the one algorithm it can honour', async () => {
    expect(await h.driver.listProtocols()).toEqual(['http', 'https', 'tcp', 'ssl']);
    expect(h.driver.listAlgorithms()).toEqual(['ROUND_ROBIN']);
  });

  it('creates a balancer with instances that appears in listBalancers and getBalancer', async () => {
    balancer = await h.driver.createBalancer({
      name,
      port: 80,
      protocol: 'http',
      algorithm: 'ROUND_ROBIN',
      members: [],
      ex: { instanceIds: [INSTANCE_IDS[0]], instancePort: 8080 },
    });
    check.balancer(balancer);
    // HTTP listeners route by least outstanding requests, which is no Algorithm value
    expect(balancer).toMatchObject({ id: name, name, state: 'running', port: 80, protocol: 'http', algorithm: null, ip: null });
    expect(balancer.extra).toMatchObject({ routing: 'least_outstanding_requests', availabilityZones: ZONES.availabilityZones, instanceIds: [INSTANCE_IDS[0]] });
    const listed = (await h.driver.listBalancers()).find((b) => b.id === name);
    expect(listed).toBeDefined();
    check.balancer(listed!);
    const got = await h.driver.getBalancer(name);
    check.balancer(got);
    expect(got).toMatchObject({ id: name, name, port: 80, protocol: 'http', state: 'running' });
    expect(got.extra).toMatchObject({
      listeners: [{ protocol: 'http', port: 80, instanceProtocol: 'http', instancePort: 8080, sslCertificateId: null }],
      instanceIds: [INSTANCE_IDS[0]],
      scheme: 'internet-facing',
    });
    expect(got.extra.dnsName).toMatch(new RegExp(`^${name}-\\d+\\.us-east-1\\.elb\\.amazonaws\\.com$`));
  });

  it('lists the registered instance as a member on the instance port, with its health', async () => {
    const members = await h.driver.listMembers(requireBalancer().id);
    members.forEach(check.member);
    expect(members).toEqual([
      {
        id: INSTANCE_IDS[0],
        ip: null,
        port: 8080,
        nodeId: INSTANCE_IDS[0],
        extra: { state: expect.stringMatching(/^(InService|OutOfService)$/), reasonCode: expect.any(String), description: expect.any(String) },
      },
    ]);
  });

  it('attaches and detaches a compute node', async () => {
    const { id } = requireBalancer();
    const node = ec2Node(INSTANCE_IDS[1]);
    const member = await h.driver.attachNode!(id, node, 8080);
    check.member(member);
    expect(member).toMatchObject({ id: node.id, nodeId: node.id, port: 8080, ip: null });
    expect((await h.driver.listMembers(id)).map((m) => m.id)).toEqual([INSTANCE_IDS[0], INSTANCE_IDS[1]]);
    await h.driver.detachMember(id, member.id);
    expect((await h.driver.listMembers(id)).map((m) => m.id)).toEqual([INSTANCE_IDS[0]]);
  });

  it('attaches a member given by instance id, and refuses one given only by IP, pointing to attachNode', async () => {
    const { id } = requireBalancer();
    const before = h.server.calls.length;
    const err = await expectTypedError(h.driver.attachMember(id, { ip: '10.0.0.12', port: 8080 }), InvalidInputError, 'member.ip');
    check.error(err);
    expect(err.message).toMatch(/^\[elb\] classic ELB registers EC2 instances, not IP addresses, so member\.ip "10\.0\.0\.12" cannot be attached; use attachNode/);
    expect(h.server.calls.length).toBe(before);
    const member = await h.driver.attachMember(id, { ip: '10.0.0.12', port: 8080, nodeId: INSTANCE_IDS[2] });
    expect(member).toMatchObject({ id: INSTANCE_IDS[2], nodeId: INSTANCE_IDS[2], port: 8080 });
    await h.driver.detachMember(id, member.id);
  });

  it('refuses ports the listeners do not send to, and nodes that are not EC2 instances', async () => {
    const { id } = requireBalancer();
    const port = await expectTypedError(h.driver.attachNode!(id, ec2Node(INSTANCE_IDS[1]), 8081), InvalidInputError, 'port');
    expect(port.message).toMatch(/instance ports \(8080\)/);
    await expectTypedError(h.driver.attachNode!(id, ec2Node('sandbox-node-1'), 8080), InvalidInputError, 'node.id');
    expect((await h.driver.listMembers(id)).map((m) => m.id)).toEqual([INSTANCE_IDS[0]]);
  });

  it('rejects every algorithm but ROUND_ROBIN with InvalidInputError naming algorithm, before sending anything', async () => {
    const before = h.server.calls.length;
    for (const algorithm of [...ALGORITHMS.filter((a) => a !== 'ROUND_ROBIN'), 'NOT_AN_ALGORITHM' as never]) {
      const err = await expectTypedError(
        h.driver.createBalancer({ name: `${name}-x`, port: 80, protocol: 'tcp', algorithm, members: [] }),
        InvalidInputError,
        'algorithm',
      );
      check.error(err);
      expect(err.message).toMatch(/classic ELB routes TCP\/SSL round robin and HTTP\/HTTPS by least outstanding requests/);
    }
    expect(h.server.calls.length).toBe(before);
  });

  it('answers NotFoundError for unknown balancers and members', async () => {
    for (const id of ['sgc-missing-balancer', 'not a name!']) {
      check.error(await expectTypedError(h.driver.getBalancer(id), NotFoundError));
      check.error(await expectTypedError(h.driver.listMembers(id), NotFoundError));
      check.error(await expectTypedError(h.driver.destroyBalancer(id), NotFoundError));
    }
    await expectTypedError(h.driver.detachMember(requireBalancer().id, INSTANCE_IDS[2]), NotFoundError);
  });

  it('moves the listener to another port, adding the new one before removing the old; no rename', async () => {
    const { id } = requireBalancer();
    const before = await h.driver.getBalancer(id);
    const sent = h.server.calls.length;
    const updated = await h.driver.updateBalancer!(id, { port: 8443 });
    expect(updated).toMatchObject({ id, name: before.name, port: 8443, protocol: before.protocol, algorithm: before.algorithm });
    const calls = h.server.calls.slice(sent).filter((c) => c.action.endsWith('LoadBalancerListeners'));
    expect(calls.map((c) => c.action)).toEqual(['CreateLoadBalancerListeners', 'DeleteLoadBalancerListeners']);
    expect(calls[0]!.params.get('Listeners.member.1.LoadBalancerPort')).toBe('8443');
    expect(calls[1]!.params.get('LoadBalancerPorts.member.1')).toBe(String(before.port));
    expect((await h.driver.listMembers(id)).length).toBeGreaterThan(0);

    await expectTypedError(h.driver.updateBalancer!(id, { name: `${name}-2` }), InvalidInputError, 'name');
    await expectTypedError(h.driver.updateBalancer!(id, { algorithm: 'LEAST_CONNECTIONS' }), InvalidInputError, 'algorithm');
    await expectTypedError(h.driver.updateBalancer!(id, { protocol: 'https' }), InvalidInputError, 'protocol');
    await expectTypedError(h.driver.updateBalancer!(id, { port: 81 }), InvalidInputError, 'port');
  });

  it('destroys the balancer', async () => {
    const { id } = requireBalancer();
    await h.driver.destroyBalancer(id);
    expect((await h.driver.listBalancers()).find((b) => b.id === id)).toBeUndefined();
    await expectTypedError(h.driver.getBalancer(id), NotFoundError);
  });
});

describe('elb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) });

  it('sends CreateLoadBalancer with the listener and zones, then registers the instances, all signed', async () => {
    const name = uniqueName();
    await h.driver.createBalancer({
      name,
      port: 443,
      protocol: 'https',
      algorithm: 'ROUND_ROBIN',
      members: [],
      ex: { ...ZONES, sslCertificateId: 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e', instanceIds: [INSTANCE_IDS[0], INSTANCE_IDS[1]] },
    });
    expect(h.server.failures).toEqual([]);
    expect(h.server.calls.map((c) => Object.fromEntries(c.params))).toEqual([
      {
        Action: 'CreateLoadBalancer',
        Version: '2012-06-01',
        LoadBalancerName: name,
        'Listeners.member.1.Protocol': 'HTTPS',
        'Listeners.member.1.LoadBalancerPort': '443',
        'Listeners.member.1.InstanceProtocol': 'HTTP',
        'Listeners.member.1.InstancePort': '443',
        'Listeners.member.1.SSLCertificateId': 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e',
        'AvailabilityZones.member.1': 'us-east-1a',
        'AvailabilityZones.member.2': 'us-east-1b',
      },
      {
        Action: 'RegisterInstancesWithLoadBalancer',
        Version: '2012-06-01',
        LoadBalancerName: name,
        'Instances.member.1.InstanceId': INSTANCE_IDS[0],
        'Instances.member.2.InstanceId': INSTANCE_IDS[1],
      },
    ]);
    expect([...h.ctx.calls]).toEqual([
      ['CreateLoadBalancer', 1],
      ['RegisterInstancesWithLoadBalancer', 1],
    ]);
  });

  it('puts a balancer in subnets with security groups, and reports TCP as round robin', async () => {
    const lb = await h.driver.createBalancer({
      name: uniqueName(),
      port: 5432,
      protocol: 'tcp',
      algorithm: 'ROUND_ROBIN',
      members: [],
      ex: { subnets: [...SUBNETS], securityGroups: ['sg-0123456789abcdef0'], scheme: 'internal' },
    });
    expect(lb).toMatchObject({ protocol: 'tcp', algorithm: 'ROUND_ROBIN' });
    expect(Object.fromEntries(h.server.calls[0]!.params)).toMatchObject({
      'Subnets.member.1': SUBNETS[0],
      'Subnets.member.2': SUBNETS[1],
      'SecurityGroups.member.1': 'sg-0123456789abcdef0',
      Scheme: 'internal',
      'Listeners.member.1.InstanceProtocol': 'TCP',
    });
    const got = await h.driver.getBalancer(lb.id);
    expect(got).toMatchObject({ algorithm: 'ROUND_ROBIN', extra: { routing: 'round_robin', vpcId: 'vpc-0a1b2c3d4e5f60718', scheme: 'internal', subnets: [...SUBNETS] } });
  });

  it('names what createBalancer lacks or cannot do, before sending anything', async () => {
    const input = { name: 'web', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' as const, members: [] };
    const zones = await expectTypedError(h.driver.createBalancer(input), InvalidInputError, 'ex.availabilityZones');
    expect(zones.message).toMatch(/needs ex\.availabilityZones .* or ex\.subnets/);
    const ips = await expectTypedError(h.driver.createBalancer({ ...input, ex: ZONES, members: [{ ip: '10.0.0.11', port: 8080 }] }), InvalidInputError, 'members');
    expect(ips.message).toMatch(/registers EC2 instances, not IP addresses.*ex\.instanceIds.*attachNode/);
    await expectTypedError(h.driver.createBalancer({ ...input, ex: { ...ZONES, subnets: [...SUBNETS] } }), InvalidInputError, 'ex.subnets');
    await expectTypedError(h.driver.createBalancer({ ...input, protocol: 'ssl', ex: ZONES }), InvalidInputError, 'ex.sslCertificateId');
    await expectTypedError(h.driver.createBalancer({ ...input, protocol: 'udp', ex: ZONES }), InvalidInputError, 'protocol');
    await expectTypedError(h.driver.createBalancer({ ...input, port: 8, ex: ZONES }), InvalidInputError, 'port');
    await expectTypedError(h.driver.createBalancer({ ...input, name: '-web', ex: ZONES }), InvalidInputError, 'name');
    await expectTypedError(h.driver.createBalancer({ ...input, ex: { ...ZONES, instanceIds: ['web-1'] } }), InvalidInputError, 'ex.instanceIds[0]');
    await expectTypedError(h.driver.createBalancer({ ...input, ex: { ...ZONES, weights: [1] } }), InvalidInputError, 'ex.weights');
    expect(h.server.calls).toEqual([]);
  });

  it('deletes the balancer again when registering its instances fails', async () => {
    const name = uniqueName();
    const err = await expectTypedError(
      h.driver.createBalancer({ name, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [], ex: { ...ZONES, instanceIds: ['i-0000000000000dead'] } }),
      InvalidInputError,
    );
    expect(err.message).toMatch(/^\[elb\] RegisterInstancesWithLoadBalancer 400 InvalidInstance: EC2 instance i-0000000000000dead/);
    expect(h.server.actions()).toEqual(['CreateLoadBalancer', 'RegisterInstancesWithLoadBalancer', 'DeleteLoadBalancer']);
    await expectTypedError(h.driver.getBalancer(name), NotFoundError);
  });

  it('follows NextMarker through every page of DescribeLoadBalancers', async () => {
    const paged = await harness({ seedBalancers: 5, pageSize: 2 });
    try {
      const balancers = await paged.driver.listBalancers();
      balancers.forEach(check.balancer);
      expect(balancers.map((b) => [b.name, b.protocol, b.algorithm])).toEqual([
        ['seed-elb-1', 'http', null],
        ['seed-elb-2', 'tcp', 'ROUND_ROBIN'],
        ['seed-elb-3', 'http', null],
        ['seed-elb-4', 'tcp', 'ROUND_ROBIN'],
        ['seed-elb-5', 'http', null],
      ]);
      const pages = paged.server.calls.map((c) => [c.action, c.params.get('PageSize'), c.params.get('Marker') !== null]);
      expect(pages).toEqual([
        ['DescribeLoadBalancers', '400', false],
        ['DescribeLoadBalancers', '400', true],
        ['DescribeLoadBalancers', '400', true],
      ]);
      expect(paged.server.failures).toEqual([]);
    } finally {
      await paged.close();
    }
  });

  it('a wrong secret is an AuthenticationError that does not carry the secret', async () => {
    const wrongSecret = 'wrongSecretKeyForTheElbTest/0123456789abc';
    const bad = await harness({}, { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: wrongSecret } });
    try {
      const err = await expectTypedError(bad.driver.getBalancer('web'), AuthenticationError);
      // why: \S* because the connection's scrubber currently also redacts the word "Signature" (a fragment of the Authorization header)
      expect(err.message).toMatch(/^\[elb\] DescribeLoadBalancers 403 \S*DoesNotMatch: The request signature we calculated does not match/);
      for (const secret of [wrongSecret, SECRET]) expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toContain(secret);
      expect(bad.server.failures).toEqual(['DescribeLoadBalancers: signature rejected (signature mismatch)']);
    } finally {
      await bad.close();
    }
  });

  it('an unknown access key is an AuthenticationError too', async () => {
    const bad = await harness({}, { credentials: { accessKeyId: 'AKIDUNKNOWNEXAMPLE99', secretAccessKey: SECRET } });
    try {
      const err = await expectTypedError(bad.driver.listBalancers(), AuthenticationError);
      expect(err.message).toMatch(/403 InvalidClientTokenId: The security token included in the request is invalid/);
      expect(err.message).not.toContain(SECRET);
    } finally {
      await bad.close();
    }
  });
});
