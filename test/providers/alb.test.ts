import { describe, expect, it } from 'vitest';
import { albProvider, createAlbProvider, validateAlbAccount } from '../../src/providers/aws/alb/index.ts';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import { ALGORITHMS, type AccountConfig, type LoadBalancerDriver, type Node } from '../../src/providers/types.ts';
import { expectTypedError, modelChecks, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { INSTANCE_IDS, SUBNETS, TEST_CREDENTIALS, VPC_ID, startElbServer, type ElbServer, type ElbServerOptions } from '../helpers/elb-server/index.ts';

const SECRET = TEST_CREDENTIALS.secretAccessKey;
const MISSING_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/sgc-missing/0123456789abcdef';
const DEFAULTS = { subnets: [...SUBNETS], vpcId: VPC_ID };
const check = modelChecks([SECRET]);

type Harness = DriverHarness<ElbServer, LoadBalancerDriver>;

async function harness(serverOpts: Partial<ElbServerOptions> = {}, account: Partial<AccountConfig> = {}): Promise<Harness> {
  const server = await startElbServer({ api: 'alb', ...serverOpts });
  const ctx = testDriverContext(
    { driver: 'alb', regions: ['us-east-1'], endpoint: server.url, credentials: { ...TEST_CREDENTIALS }, options: DEFAULTS, ...account },
    { region: 'us-east-1' },
  );
  const instance = createAlbProvider({ env: {}, retry: { baseDelayMs: 5, maxDelayMs: 20 } }).create(ctx);
  return driverHarness(server, ctx, instance, instance.loadBalancer!);
}

const node = (privateIps: string[], id = 'i-0a1b2c3d4e5f60002'): Node => ({
  id,
  name: 'web',
  state: 'running',
  publicIps: ['192.0.2.44'],
  privateIps,
  sizeId: null,
  imageId: null,
  locationId: null,
  createdAt: null,
  tags: {},
  extra: {},
});

let conformanceServer: ElbServer | undefined;
testLoadBalancerDriver({
  name: 'alb',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['attachNode', 'updateBalancer'],
  waitFor: pollUntil({ intervalMs: 50, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingBalancerId: MISSING_ARN,
  secrets: [SECRET],
});

describe('alb provider', () => {
  it('is registered as a regional load-balancer provider', async () => {
    expect(await loadProvider('alb')).toBe(albProvider);
    expect(albProvider).toMatchObject({ name: 'alb', services: ['LOADBALANCER'], regional: true, defaultRegion: 'us-east-1' });
  });

  it('validates its options, naming the field and never the value', () => {
    const account = (options: Record<string, unknown>) => testDriverContext({ driver: 'alb', options }).account;
    expect(validateAlbAccount(account(DEFAULTS))).toEqual([]);
    expect(validateAlbAccount(account({ subnets: ['subnet-only-one'], vpcId: '', securityGroups: 'sg-1' }))).toEqual([
      'options.securityGroups must be a list of non-empty strings',
      'options.vpcId must be a non-empty string',
      'options.subnets must name at least two subnets in different Availability Zones',
    ]);
  });

  it('signed, known and complete: every request of the conformance run', () => {
    expect(conformanceServer?.calls.length).toBeGreaterThan(20);
    expect(conformanceServer?.failures).toEqual([]);
  });
});

describe('alb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) });

  it('creates the load balancer, an owned ip target group, a forwarding listener and the targets', async () => {
    const name = uniqueName();
    const lb = await h.driver.createBalancer({ name, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [{ ip: '10.0.0.21', port: 8080 }] });
    check.balancer(lb);
    expect(lb).toMatchObject({ name, state: 'pending', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', ip: null });
    expect(lb.id).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/sgc-[\w-]+\/[0-9a-f]{16}$/);
    expect(h.server.failures).toEqual([]);
    expect(h.server.actions()).toEqual(['DescribeLoadBalancers', 'CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener', 'RegisterTargets']);
    const [, create, tg, listener, register] = h.server.calls.map((c) => Object.fromEntries(c.params));
    expect(create).toMatchObject({ Name: name, Type: 'application', 'Subnets.member.1': SUBNETS[0], 'Subnets.member.2': SUBNETS[1], Version: '2015-12-01' });
    const id = lb.id.slice(-16);
    expect(tg).toEqual({
      Action: 'CreateTargetGroup',
      Version: '2015-12-01',
      Name: `skygraph-${id}`,
      Protocol: 'HTTP',
      Port: '8080',
      VpcId: VPC_ID,
      TargetType: 'ip',
      'Tags.member.1.Key': 'skygraph:balancer',
      'Tags.member.1.Value': lb.id,
    });
    expect(listener).toMatchObject({ LoadBalancerArn: lb.id, Protocol: 'HTTP', Port: '80', 'DefaultActions.member.1.Type': 'forward' });
    expect(listener!['DefaultActions.member.1.TargetGroupArn']).toBe(lb.extra.targetGroupArn);
    expect(register).toMatchObject({ 'Targets.member.1.Id': '10.0.0.21', 'Targets.member.1.Port': '8080' });
    expect(h.ctx.totalCalls()).toBe(5);

    await pollUntil({ intervalMs: 50, timeoutMs: 5_000 })(async () => (await h.driver.getBalancer(lb.id)).state === 'running', 'running');
    const members = await h.driver.listMembers(lb.id);
    expect(members).toEqual([
      {
        id: '10.0.0.21:8080',
        ip: '10.0.0.21',
        port: 8080,
        nodeId: null,
        extra: expect.objectContaining({ targetGroupArn: lb.extra.targetGroupArn, state: expect.stringMatching(/^(initial|healthy)$/) }),
      },
    ]);
  });

  it.each([
    ['LEAST_CONNECTIONS', [['load_balancing.algorithm.type', 'least_outstanding_requests']]],
    ['RANDOM', [['load_balancing.algorithm.type', 'weighted_random'], ['load_balancing.algorithm.anomaly_mitigation', 'off']]],
  ] as const)('sets %s on the target group and reads it back', async (algorithm, attributes) => {
    const lb = await h.driver.createBalancer({ name: uniqueName(), port: 8000, protocol: 'http', algorithm, members: [] });
    expect(lb.algorithm).toBe(algorithm);
    const modify = h.server.calls.find((c) => c.action === 'ModifyTargetGroupAttributes')!;
    expect(attributes.map((_, i) => [modify.params.get(`Attributes.member.${i + 1}.Key`), modify.params.get(`Attributes.member.${i + 1}.Value`)])).toEqual(attributes);
    const got = await h.driver.getBalancer(lb.id);
    expect(got).toMatchObject({ algorithm, port: 8000 });
    expect(got.extra.loadBalancingAlgorithm).toBe(attributes[0][1]);
  });

  it('updates in place: the port on the listener, the algorithm on the target group; no rename, no switch to https', async () => {
    const name = uniqueName();
    const lb = await h.driver.createBalancer({ name, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] });
    const updated = await h.driver.updateBalancer!(lb.id, { port: 8080, algorithm: 'LEAST_CONNECTIONS' });
    expect(updated).toMatchObject({ id: lb.id, name, port: 8080, protocol: 'http', algorithm: 'LEAST_CONNECTIONS' });
    const modify = h.server.calls.find((c) => c.action === 'ModifyListener')!.params;
    expect(modify.get('Port')).toBe('8080');
    expect(modify.has('Protocol')).toBe(false);
    const attributes = h.server.calls.filter((c) => c.action === 'ModifyTargetGroupAttributes').at(-1)!.params;
    expect([attributes.get('Attributes.member.1.Key'), attributes.get('Attributes.member.1.Value')]).toEqual(['load_balancing.algorithm.type', 'least_outstanding_requests']);
    expect((await h.driver.getBalancer(lb.id)).algorithm).toBe('LEAST_CONNECTIONS');

    const sent = h.server.calls.length;
    await expectTypedError(h.driver.updateBalancer!(lb.id, { name: `${name}-2` }), InvalidInputError, 'name');
    await expectTypedError(h.driver.updateBalancer!(lb.id, { protocol: 'https' }), InvalidInputError, 'protocol');
    await expectTypedError(h.driver.updateBalancer!(lb.id, { algorithm: 'SOURCE_IP' }), InvalidInputError, 'algorithm');
    expect(h.server.calls.slice(sent).map((c) => c.action).filter((a) => a.startsWith('Modify'))).toEqual([]);
  });

  it('rejects the algorithms ALB does not have before sending anything', async () => {
    expect(h.driver.listAlgorithms()).toEqual(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'RANDOM']);
    for (const algorithm of ALGORITHMS.filter((a) => !['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'RANDOM'].includes(a))) {
      const err = await expectTypedError(h.driver.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm, members: [] }), InvalidInputError, 'algorithm');
      expect(err.message).toContain(algorithm);
      expect(err.message).toMatch(/supported: ROUND_ROBIN, LEAST_CONNECTIONS, RANDOM/);
    }
    expect(h.server.calls).toEqual([]);
  });

  it('names what createBalancer lacks: subnets, VPC, certificate, protocol', async () => {
    const bare = await harness({}, { options: {} });
    try {
      const input = { name: 'web', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' as const, members: [] };
      const subnets = await expectTypedError(bare.driver.createBalancer(input), InvalidInputError, 'ex.subnets');
      expect(subnets.message).toMatch(/at least two subnets/);
      await expectTypedError(bare.driver.createBalancer({ ...input, ex: { subnets: [...SUBNETS] } }), InvalidInputError, 'ex.vpcId');
      await expectTypedError(h.driver.createBalancer({ ...input, protocol: 'https' }), InvalidInputError, 'ex.certificateArn');
      await expectTypedError(h.driver.createBalancer({ ...input, protocol: 'tcp' }), InvalidInputError, 'protocol');
      await expectTypedError(h.driver.createBalancer({ ...input, ex: { bogus: 1 } }), InvalidInputError, 'ex.bogus');
      await expectTypedError(h.driver.createBalancer({ ...input, members: [{ ip: 'web-1', port: 80 }] }), InvalidInputError, 'members[0].ip');
      expect(bare.server.calls).toEqual([]);
      expect(h.server.calls).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it('creates an https listener with the certificate', async () => {
    const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/4f1c2d3e-0000-4000-8000-000000000001';
    const lb = await h.driver.createBalancer({ name: uniqueName(), port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [], ex: { certificateArn } });
    expect(lb).toMatchObject({ port: 443, protocol: 'https' });
    const listener = h.server.calls.find((c) => c.action === 'CreateListener')!;
    expect(listener.params.get('Certificates.member.1.CertificateArn')).toBe(certificateArn);
    expect(h.server.failures).toEqual([]);
  });

  it('undoes a createBalancer that fails half-way', async () => {
    const name = uniqueName();
    // 192.0.2.7 is outside the VPC, so RegisterTargets fails after everything else exists
    const err = await expectTypedError(
      h.driver.createBalancer({ name, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [{ ip: '192.0.2.7', port: 80 }] }),
      InvalidInputError,
    );
    expect(err.message).toMatch(/^\[alb\] RegisterTargets 400 ValidationError: The IP address '192\.0\.2\.7' is not within the VPC CIDR/);
    expect(h.server.actions().slice(-3)).toEqual(['DeleteListener', 'DeleteTargetGroup', 'DeleteLoadBalancer']);
    expect((await h.driver.listBalancers()).map((b) => b.name)).not.toContain(name);
    expect(h.server.failures).toEqual([]);
  });

  it('refuses to create over an existing balancer of the same name', async () => {
    const name = uniqueName();
    await h.driver.createBalancer({ name, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] });
    const before = h.server.calls.length;
    await expectTypedError(h.driver.createBalancer({ name, port: 81, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] }), ConflictError);
    expect(h.server.actions().slice(before)).toEqual(['DescribeLoadBalancers']);
  });

  it('attaches a node by its private IP and detaches it; draining targets are not members', async () => {
    const lb = await h.driver.createBalancer({ name: uniqueName(), port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] });
    const member = await h.driver.attachNode!(lb.id, node(['fd00::5', '10.0.0.31']), 9000);
    expect(member).toMatchObject({ id: '10.0.0.31:9000', ip: '10.0.0.31', port: 9000, nodeId: 'i-0a1b2c3d4e5f60002' });
    expect((await h.driver.listMembers(lb.id)).map((m) => m.id)).toEqual(['10.0.0.31:9000']);
    await h.driver.detachMember(lb.id, member.id);
    expect(await h.driver.listMembers(lb.id)).toEqual([]);
    // the target is still there upstream, draining
    const health = h.server.calls.filter((c) => c.action === 'DescribeTargetHealth').length;
    expect(health).toBe(3);
    await expectTypedError(h.driver.detachMember(lb.id, member.id), NotFoundError);
    await expectTypedError(h.driver.detachMember(lb.id, '10.0.0.99:80'), NotFoundError);
    await expectTypedError(h.driver.detachMember(lb.id, 'not a member id'), NotFoundError);
    await expectTypedError(h.driver.attachNode!(lb.id, node([]), 9000), InvalidInputError, 'node.privateIps');
    expect(h.server.failures).toEqual([]);
  });

  it('destroys listeners, its own target group and the balancer, and keeps target groups it does not own', async () => {
    const seeded = await harness({ seedBalancers: 2 });
    try {
      const lb = await seeded.driver.createBalancer({ name: uniqueName(), port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] });
      const before = seeded.server.calls.length;
      await seeded.driver.destroyBalancer(lb.id);
      expect(seeded.server.actions().slice(before)).toEqual([
        'DescribeLoadBalancers',
        'DescribeListeners',
        'DeleteListener',
        'DescribeTargetGroups',
        'DescribeTags',
        'DeleteTargetGroup',
        'DeleteLoadBalancer',
      ]);
      const other = (await seeded.driver.listBalancers()).find((b) => b.name === 'seed-alb-1')!;
      const mark = seeded.server.calls.length;
      await seeded.driver.destroyBalancer(other.id);
      // seed-alb-1-tg was not made by skygraph: no DescribeTags match, no DeleteTargetGroup
      expect(seeded.server.actions().slice(mark)).toEqual(['DescribeLoadBalancers', 'DescribeListeners', 'DeleteListener', 'DescribeTargetGroups', 'DeleteLoadBalancer']);
      expect((await seeded.driver.listBalancers()).map((b) => b.name)).toEqual(['seed-alb-2']);
      expect(seeded.server.failures).toEqual([]);
    } finally {
      await seeded.close();
    }
  });

  it('follows NextMarker through every page, lists only application load balancers, and reads each algorithm', async () => {
    const paged = await harness({ seedBalancers: 5, pageSize: 2 });
    try {
      const balancers = await paged.driver.listBalancers();
      balancers.forEach(check.balancer);
      expect(balancers.map((b) => [b.name, b.port, b.protocol, b.algorithm, b.state])).toEqual([
        ['seed-alb-1', 80, 'http', 'ROUND_ROBIN', 'running'],
        ['seed-alb-2', 80, 'http', 'ROUND_ROBIN', 'running'],
        ['seed-alb-3', 80, 'http', 'LEAST_CONNECTIONS', 'running'],
        ['seed-alb-4', 80, 'http', 'ROUND_ROBIN', 'running'],
        ['seed-alb-5', 80, 'http', 'ROUND_ROBIN', 'running'],
      ]);
      const pages = paged.server.calls.filter((c) => c.action === 'DescribeLoadBalancers');
      // 5 application load balancers and one network load balancer, two per page
      expect(pages.map((c) => [c.params.get('PageSize'), c.params.has('Marker')])).toEqual([
        ['400', false],
        ['400', true],
        ['400', true],
      ]);
      expect(paged.server.failures).toEqual([]);
    } finally {
      await paged.close();
    }
  });

  it('registers instance ids on a target group of type instance', async () => {
    const seeded = await harness({ seedBalancers: 2 });
    try {
      const lb = (await seeded.driver.listBalancers()).find((b) => b.name === 'seed-alb-2')!;
      const member = await seeded.driver.attachNode!(lb.id, node(['10.0.0.40'], INSTANCE_IDS[1]), 8080);
      expect(member).toMatchObject({ id: `${INSTANCE_IDS[1]}:8080`, ip: null, nodeId: INSTANCE_IDS[1], port: 8080 });
      expect((await seeded.driver.listMembers(lb.id)).map((m) => [m.id, m.nodeId])).toEqual([[`${INSTANCE_IDS[1]}:8080`, INSTANCE_IDS[1]]]);
      await expectTypedError(seeded.driver.attachMember(lb.id, { ip: '10.0.0.41', port: 8080 }), InvalidInputError, 'member.ip');
      expect(seeded.server.failures).toEqual([]);
    } finally {
      await seeded.close();
    }
  });

  it('answers NotFoundError for ids that are not ALB ARNs, without asking', async () => {
    for (const id of ['sgc-missing', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/0123456789abcdef']) {
      await expectTypedError(h.driver.getBalancer(id), NotFoundError);
      await expectTypedError(h.driver.listMembers(id), NotFoundError);
    }
    expect(h.server.calls).toEqual([]);
  });

  it('a wrong secret is an AuthenticationError that does not carry the secret', async () => {
    const wrongSecret = 'wrongSecretKeyForTheAlbTest/0123456789abc';
    const bad = await harness({}, { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: wrongSecret } });
    try {
      const err = await expectTypedError(bad.driver.listBalancers(), AuthenticationError);
      // why: \S* because the connection's scrubber currently also redacts the word "Signature" (a fragment of the Authorization header)
      expect(err.message).toMatch(/^\[alb\] DescribeLoadBalancers 403 \S*DoesNotMatch: The request signature we calculated does not match/);
      for (const secret of [wrongSecret, SECRET]) expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toContain(secret);
      expect(bad.server.failures).toEqual(['DescribeLoadBalancers: signature rejected (signature mismatch)']);
    } finally {
      await bad.close();
    }
  });
});
