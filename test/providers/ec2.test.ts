import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEc2Instance, ec2Provider, validateEc2Account } from '../../src/providers/aws/ec2/index.ts';
import { parseAwsError } from '../../src/providers/aws/errors.ts';
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  UnsupportedError,
} from '../../src/providers/errors.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { computeCapabilitiesExcept, testComputeDriver } from '../conformance/compute.ts';
import { expectTypedError, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { startTestApp } from '../helpers/app.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { EC2_TEST_KEY_ID, EC2_TEST_SECRET, startEc2Server, type Ec2Server, type Ec2ServerOptions } from '../helpers/ec2-server/index.ts';

const CREDENTIALS = { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: EC2_TEST_SECRET };
const FAST_RETRY = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };
const WEB_1 = 'i-0a5f3c9e2b7d41868';

type Harness = DriverHarness<Ec2Server, ComputeDriver>;

async function harness(
  serverOpts: Ec2ServerOptions = {},
  account: Partial<AccountConfig> = {},
  region = 'us-east-1',
  deps: Parameters<typeof createEc2Instance>[1] = FAST_RETRY,
): Promise<Harness> {
  const server = await startEc2Server(serverOpts);
  const ctx = testDriverContext({ driver: 'ec2', regions: [region], endpoint: server.url, credentials: CREDENTIALS, ...account }, { region });
  const instance = createEc2Instance(ctx, deps);
  return driverHarness(server, ctx, instance, instance.compute!);
}

let server: Ec2Server | undefined;
testComputeDriver({
  name: 'ec2',
  async create() {
    const h = await harness({ transitionMs: 100 });
    server = h.server;
    return conformanceTarget(h);
  },
  capabilities: computeCapabilitiesExcept(),
  createNodeInput: () => ({ name: uniqueName(), sizeId: 't3.micro', imageId: 'ami-0c1d2e3f4a5b6c7d8', locationId: 'us-east-1b', keyName: 'deploy-2024' }),
  waitFor: pollUntil({ intervalMs: 50, timeoutMs: 10_000 }),
  waitTimeoutMs: 10_000,
  missingNodeId: 'i-0123456789abcdef0',
  missingImageId: 'ami-0000000000000dead',
  secrets: [EC2_TEST_SECRET],
});

describe('ec2: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) });

  it('every conformance request was signed, known and complete', () => {
    expect(server?.requests.length).toBeGreaterThan(10);
    expect(new Set(server?.requests.map((r) => r.region))).toEqual(new Set(['us-east-1']));
  });

  it('lists nodes with one signed DescribeInstances and maps the recorded instances', async () => {
    const nodes = await h.driver.listNodes();
    expect(h.server.failures).toEqual([]);
    expect(h.server.requests.map((r) => [r.action, r.params.get('Version'), r.params.get('MaxResults'), r.region])).toEqual([
      ['DescribeInstances', '2016-11-15', '1000', 'us-east-1'],
    ]);
    expect(h.ctx.calls.get('DescribeInstances')).toBe(1);
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n])) as Record<string, Node>;
    expect(Object.keys(byId)).toHaveLength(5);
    expect(byId[WEB_1]).toMatchObject({
      name: 'web-1',
      state: 'running',
      // instance ipAddress, the ENI association and the private-address association name one EIP
      publicIps: ['3.210.45.7', '52.4.100.200', '2600:1f18:4a2b:1200:8c1d:2e3f:4a5b:6c7d'],
      privateIps: ['10.20.1.15', '10.20.1.16', '10.20.2.40'],
      sizeId: 't3.micro',
      imageId: 'ami-0c1d2e3f4a5b6c7d8',
      locationId: 'us-east-1a',
      createdAt: new Date('2024-05-14T08:31:02.000Z'),
      tags: { Name: 'web-1', team: 'storefront & checkout' },
    });
    expect(byId[WEB_1]!.extra).toMatchObject({
      elasticIps: ['3.210.45.7', '52.4.100.200'],
      keyName: 'deploy-2024',
      vpcId: 'vpc-0b1c2d3e4f5a69788',
      subnetId: 'subnet-07e1d2c3b4a596871',
      securityGroups: [
        { id: 'sg-0f1e2d3c4b5a69781', name: 'web' },
        { id: 'sg-0a9b8c7d6e5f43212', name: 'ssh-from-office' },
      ],
      architecture: 'x86_64',
      iamInstanceProfile: 'arn:aws:iam::210987654321:instance-profile/web-role',
      reservationId: 'r-0a1b2c3d4e5f60718',
      ownerId: '210987654321',
    });
    expect(byId['i-0b6e4d2c8a1f93755']).toMatchObject({ name: 'worker-1', state: 'stopped', publicIps: [], privateIps: ['10.20.3.7'] });
    expect(byId['i-0c7f5e3d9b2a04646']).toMatchObject({ name: 'i-0c7f5e3d9b2a04646', state: 'pending' });
    expect(byId['i-0d8a6f4e0c3b15537']).toMatchObject({ name: 'batch-7', state: 'stopping', publicIps: ['54.163.20.11'] });
    expect(byId['i-0d8a6f4e0c3b15537']!.extra).toMatchObject({ instanceState: 'shutting-down', lifecycle: 'spot', elasticIps: [] });
    expect(byId['i-0e9b7a5f1d4c26428']).toMatchObject({ state: 'terminated', publicIps: [], privateIps: [], locationId: 'us-east-1c' });
  });

  it('follows NextToken to the last page', async () => {
    await h.close();
    h = await harness({ generated: 25, pageSize: 10 });
    const nodes = await h.driver.listNodes();
    expect(nodes).toHaveLength(30);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(30);
    const tokens = h.server.requests.map((r) => r.params.get('NextToken'));
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toBeNull();
    expect(tokens[1]).not.toBeNull();
    expect(tokens[2]).not.toBe(tokens[1]);
    expect(nodes.find((n) => n.name === 'node-0')).toMatchObject({ state: 'running', publicIps: [expect.stringMatching(/^54\./)] });
    expect(h.server.failures).toEqual([]);
  });

  it('getNodes is one instance-id filter request, in key order, null for unknown and malformed ids', async () => {
    const ids = ['i-0b6e4d2c8a1f93755', 'i-0123456789abcdef0', WEB_1, 'not-an-id', WEB_1];
    const got = await h.driver.getNodes!(ids);
    expect(got.map((n) => n?.id ?? null)).toEqual(['i-0b6e4d2c8a1f93755', null, WEB_1, null, WEB_1]);
    expect(h.server.requests).toHaveLength(1);
    const q = h.server.requests[0]!.params;
    expect([q.get('Filter.1.Name'), q.getAll('Filter.1.Value.1'), q.has('InstanceId.1')]).toEqual(['instance-id', ['i-0b6e4d2c8a1f93755'], false]);
    expect(q.get('Filter.1.Value.4')).toBe('not-an-id');
    expect(q.has('Filter.1.Value.5')).toBe(false);
    expect(h.server.failures).toEqual([]);
  });

  it('getImages asks once for many ids and answers in key order, unknown ids as null', async () => {
    const ids = ['ami-0f9e8d7c6b5a49382', 'ami-0a1b2c3d4e5f67890', 'ami-0c1d2e3f4a5b6c7d8', 'ami-0123456789abcdef1', 'ami-0c1d2e3f4a5b6c7d8'];
    const got = await h.driver.getImages!(ids);
    expect(got.map((i) => i?.id ?? null)).toEqual(['ami-0f9e8d7c6b5a49382', null, 'ami-0c1d2e3f4a5b6c7d8', 'ami-0123456789abcdef1', 'ami-0c1d2e3f4a5b6c7d8']);
    expect(got[0]).toMatchObject({ name: 'al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64', extra: { ownerAlias: 'amazon', isPublic: true } });
    expect(h.server.requests.map((r) => [r.action, r.params.get('Filter.1.Name'), r.params.has('ImageId.1'), r.params.has('Owner.1')])).toEqual([
      ['DescribeImages', 'image-id', false, false],
    ]);
    expect(h.server.failures).toEqual([]);
  });

  it('lists only the account\'s own images by default; owner and name filters narrow it', async () => {
    const own = await h.driver.listImages();
    expect(own.map((i) => i.name).sort()).toEqual(['skygraph-base-2024-04', 'skygraph-web-2024-05', 'skygraph-worker-arm-2024-06']);
    expect(h.server.requests[0]!.params.getAll('Owner.1')).toEqual(['self']);
    expect(own.find((i) => i.id === 'ami-0c1d2e3f4a5b6c7d8')!.extra).toMatchObject({
      architecture: 'x86_64',
      blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0a1b2c3d4e5f60001', volumeSize: 8, volumeType: 'gp3' }],
      tags: { 'built-by': 'packer' },
    });
    expect((await h.driver.listImages({ owner: 'amazon' })).map((i) => i.id)).toEqual(['ami-0f9e8d7c6b5a49382']);
    expect((await h.driver.listImages({ name: 'skygraph-w*' })).map((i) => i.name).sort()).toEqual(['skygraph-web-2024-05', 'skygraph-worker-arm-2024-06']);
    expect(await h.driver.listImages({ ids: [] })).toEqual([]);
    expect(h.server.failures).toEqual([]);
  });

  it('lists availability zones with the region\'s country and sizes with the region\'s prices', async () => {
    const zones = await h.driver.listLocations();
    expect(zones.map((z) => [z.id, z.country])).toEqual([
      ['us-east-1a', 'US'],
      ['us-east-1b', 'US'],
      ['us-east-1c', 'US'],
    ]);
    expect(zones[2]!.extra).toMatchObject({ state: 'impaired', zoneId: 'use1-az1', regionName: 'US East (N. Virginia)' });
    const sizes = await h.driver.listSizes();
    expect(sizes.length).toBeGreaterThanOrEqual(25);
    expect(sizes.find((s) => s.id === 't3.micro')).toMatchObject({ ram: 1024, disk: 0, price: 0.0104, extra: { vcpus: 2 } });
    expect(sizes.find((s) => s.id === 'm5d.xlarge')).toMatchObject({ ram: 16384, disk: 150, price: 0.226 });
    for (const prefix of ['t3.', 't4g.', 'm5.', 'm6i.', 'c5.', 'c6i.', 'r5.', 'r6i.']) expect(sizes.some((s) => s.id.startsWith(prefix))).toBe(true);
    expect(sizes.every((s) => s.price !== null && s.price > 0)).toBe(true);

    await h.close();
    h = await harness({}, {}, 'eu-west-1');
    expect((await h.driver.listLocations()).map((z) => [z.id, z.country])[0]).toEqual(['eu-west-1a', 'IE']);
    expect((await h.driver.listSizes()).find((s) => s.id === 't3.micro')!.price).toBe(0.0114);
    expect(h.server.requests[0]!.region).toBe('eu-west-1');
    await h.close();
    h = await harness({}, {}, 'sa-east-1');
    expect((await h.driver.listSizes()).every((s) => s.price === null)).toBe(true);
  });

  it('creates a node with RunInstances: ClientToken, Name tag, groups, subnet, base64 user data', async () => {
    const input = {
      name: 'api-7',
      sizeId: 'm6i.large',
      imageId: 'ami-0c1d2e3f4a5b6c7d8',
      locationId: 'us-east-1c',
      keyName: 'deploy-2024',
      userData: '#!/bin/sh\necho héllo\n',
      clientToken: 'create-api-7-once',
      tags: { env: 'prod' },
      ex: { securityGroupIds: ['sg-0f1e2d3c4b5a69781', 'sg-0a9b8c7d6e5f43212'], subnetId: 'subnet-07e1d2c3b4a596871', tags: { team: 'api' } },
    };
    const node = await h.driver.createNode(input);
    expect(node).toMatchObject({ name: 'api-7', state: 'pending', sizeId: 'm6i.large', locationId: 'us-east-1c' });
    expect(node.tags).toEqual({ team: 'api', env: 'prod', Name: 'api-7' });
    expect(node.extra).toMatchObject({ subnetId: 'subnet-07e1d2c3b4a596871', clientToken: 'create-api-7-once' });
    const q = h.server.requests[0]!.params;
    expect(Object.fromEntries(q)).toMatchObject({
      Action: 'RunInstances',
      ImageId: 'ami-0c1d2e3f4a5b6c7d8',
      InstanceType: 'm6i.large',
      MinCount: '1',
      MaxCount: '1',
      ClientToken: 'create-api-7-once',
      KeyName: 'deploy-2024',
      'Placement.AvailabilityZone': 'us-east-1c',
      UserData: Buffer.from(input.userData).toString('base64'),
      'SecurityGroupId.1': 'sg-0f1e2d3c4b5a69781',
      'SecurityGroupId.2': 'sg-0a9b8c7d6e5f43212',
      SubnetId: 'subnet-07e1d2c3b4a596871',
      'TagSpecification.1.ResourceType': 'instance',
      'TagSpecification.1.Tag.1.Key': 'team',
      'TagSpecification.1.Tag.2.Key': 'env',
      'TagSpecification.1.Tag.2.Value': 'prod',
      'TagSpecification.1.Tag.3.Key': 'Name',
      'TagSpecification.1.Tag.3.Value': 'api-7',
    });
    // the same ClientToken launches nothing new; other arguments with it are a conflict
    expect((await h.driver.createNode(input)).id).toBe(node.id);
    expect(h.server.launched('us-east-1')).toEqual([node.id]);
    await expectTypedError(h.driver.createNode({ ...input, sizeId: 't3.micro' }), ConflictError);
    // without a token, each call gets a fresh one
    await h.driver.createNode({ name: 'a', sizeId: 't3.micro', imageId: 'ami-0c1d2e3f4a5b6c7d8' });
    await h.driver.createNode({ name: 'b', sizeId: 't3.micro', imageId: 'ami-0c1d2e3f4a5b6c7d8' });
    const tokens = h.server.requests.filter((r) => r.action === 'RunInstances').map((r) => r.params.get('ClientToken'));
    expect(new Set(tokens.slice(3)).size).toBe(2);
    expect(h.server.failures).toEqual([]);
  });

  it('refuses what RunInstances cannot do, naming the field, before any request', async () => {
    const base = { name: 'x', sizeId: 't3.micro', imageId: 'ami-0c1d2e3f4a5b6c7d8' };
    const sshKey = await expectTypedError(h.driver.createNode({ ...base, sshKey: 'ssh-ed25519 AAAA x' }), InvalidInputError, 'sshKey');
    expect(sshKey.message).toMatch(/importKeyPair/);
    expect(sshKey.message).toMatch(/keyName/);
    await expectTypedError(h.driver.createNode({ ...base, ex: { placementGroup: 'pg' } }), InvalidInputError, 'ex.placementGroup');
    await expectTypedError(h.driver.createNode({ ...base, ex: { securityGroupIds: 'sg-1' } }), InvalidInputError, 'ex.securityGroupIds');
    await expectTypedError(h.driver.createNode({ ...base, userData: 'x'.repeat(16 * 1024 + 1) }), InvalidInputError, 'userData');
    await expectTypedError(h.driver.rebootNode!(WEB_1, { hard: true }), UnsupportedError);
    expect(h.server.requests).toEqual([]);
  });

  it('maps EC2 errors: unknown image, unknown and malformed instance, wrong state', async () => {
    const missing = await expectTypedError(h.driver.createNode({ name: 'x', sizeId: 't3.micro', imageId: 'ami-0000000000000dead' }), NotFoundError);
    expect(missing.message).toMatch(/^\[ec2\] RunInstances 400 InvalidAMIID\.NotFound: /);
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await expectTypedError(h.driver.startNode!('i-0123456789abcdef0'), NotFoundError);
    await expectTypedError(h.driver.stopNode!('garbage'), InvalidInputError, 'id');
    await expectTypedError(h.driver.rebootNode!('i-0b6e4d2c8a1f93755'), ConflictError);
    await expectTypedError(h.driver.startNode!('i-0e9b7a5f1d4c26428'), ConflictError);
    await expectTypedError(h.driver.getKeyPair!('nope'), NotFoundError);
    expect(h.server.failures).toEqual([]);
  });

  it('imports keys as base64 PublicKeyMaterial and lists them with their public key', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop';
    const imported = await h.driver.importKeyPair!('laptop', key);
    expect(imported).toMatchObject({ name: 'laptop', publicKey: key, fingerprint: expect.any(String) });
    const sent = h.server.requests[0]!.params;
    expect(Buffer.from(sent.get('PublicKeyMaterial')!, 'base64').toString()).toBe(key);
    const listed = await h.driver.listKeyPairs!();
    expect(listed.map((k) => k.name)).toEqual(['deploy-2024', 'laptop']);
    expect(listed[0]).toMatchObject({ fingerprint: 'Xq2v9o8m0cZ6k7rWb1Yt3pFh5sNd4jLe6aGi8uKy2Ro=', extra: { keyType: 'ed25519', keyPairId: 'key-0d1c2b3a4f5e69780' } });
    await expectTypedError(h.driver.importKeyPair!('laptop', key), ConflictError);
    await expectTypedError(h.driver.importKeyPair!('bad', 'not a key'), InvalidInputError, 'publicKey');
    expect(h.server.failures).toEqual([]);
  });

  it('lists EBS volumes and snapshots, and attaches to the first free device', async () => {
    const volumes = Object.fromEntries((await h.driver.listVolumes!()).map((v) => [v.id, v]));
    expect(volumes['vol-0a7b6c5d4e3f21098']).toMatchObject({
      name: 'web-1-data',
      size: 100,
      state: 'inuse',
      extra: { nodeId: WEB_1, device: '/dev/sdf', attachmentState: 'attached', locationId: 'us-east-1a', encrypted: true, volumeType: 'gp3' },
    });
    expect(volumes['vol-0e1f2a3b4c5d6e7f8']).toMatchObject({ name: 'restore-test', state: 'available', extra: { nodeId: null, snapshotId: 'snap-0f1e2d3c4b5a69870' } });
    expect(h.server.requests[0]!.params.get('MaxResults')).toBe('500');

    const snapshots = await h.driver.listVolumeSnapshots!('vol-0a7b6c5d4e3f21098');
    expect(snapshots).toMatchObject([{ id: 'snap-0f1e2d3c4b5a69870', name: 'web-1-data-2024-06-01', size: 100, state: 'available', createdAt: new Date('2024-06-01T03:00:11.000Z') }]);
    const q = h.server.requests[1]!.params;
    expect([q.get('Owner.1'), q.get('Filter.1.Name'), q.get('Filter.1.Value.1')]).toEqual(['self', 'volume-id', 'vol-0a7b6c5d4e3f21098']);

    await h.driver.attachVolume!(WEB_1, 'vol-0e1f2a3b4c5d6e7f8');
    const [describe, attach] = h.server.requests.slice(2).map((r) => r.params);
    expect([describe!.get('Action'), describe!.get('InstanceId.1'), describe!.has('MaxResults')]).toEqual(['DescribeInstances', WEB_1, false]);
    expect(Object.fromEntries(attach!)).toMatchObject({ Action: 'AttachVolume', InstanceId: WEB_1, VolumeId: 'vol-0e1f2a3b4c5d6e7f8', Device: '/dev/sdg' });
    await h.driver.attachVolume!(WEB_1, 'vol-0e1f2a3b4c5d6e7f8').catch(() => undefined);
    await expectTypedError(h.driver.destroyVolume!('vol-0a7b6c5d4e3f21098'), ConflictError);
    await expectTypedError(h.driver.createVolume!({ size: 1, name: 'v' }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.createImage!(WEB_1, 'no'), InvalidInputError, 'name');
    await expectTypedError(h.driver.attachVolume!('i-0123456789abcdef0', 'vol-0e1f2a3b4c5d6e7f8'), NotFoundError);
    expect(h.server.failures).toEqual([]);
  });

  it('ex: creates, reads and deletes tags', async () => {
    const ex = h.driver.ex as unknown as {
      createTags(id: string, tags: Record<string, string>): Promise<void>;
      deleteTags(id: string, keys: string[]): Promise<void>;
      describeTags(id?: string): Promise<{ resourceId: string; key: string; value: string }[]>;
      getTags(id: string): Promise<Record<string, string>>;
    };
    await ex.createTags(WEB_1, { owner: 'ops', 'cost-center': '42' });
    expect(await ex.getTags(WEB_1)).toEqual({ Name: 'web-1', team: 'storefront & checkout', owner: 'ops', 'cost-center': '42' });
    await ex.deleteTags(WEB_1, ['owner']);
    const rows = await ex.describeTags();
    expect(rows.filter((r) => r.resourceId === WEB_1).map((r) => r.key)).toEqual(['Name', 'team', 'cost-center']);
    expect((await h.driver.getNodes!([WEB_1]))[0]!.tags).toEqual({ Name: 'web-1', team: 'storefront & checkout', 'cost-center': '42' });
    await expectTypedError(ex.createTags('i-0123456789abcdef0', { a: 'b' }), NotFoundError);
    expect(h.server.failures).toEqual([]);
  });
});

describe('ec2: credentials, retries and failures', () => {
  const opened: Harness[] = [];
  const open = async (...args: Parameters<typeof harness>) => {
    const h = await harness(...args);
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const h of opened.splice(0)) await h.close();
  });

  it('a wrong secret is an AuthenticationError that never shows the secret', async () => {
    const wrong = 'wrong-secret-ZXCVBNM0987654321';
    const h = await open({}, { credentials: { accessKeyId: EC2_TEST_KEY_ID, secretAccessKey: wrong } });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.message).toMatch(/^\[ec2\] DescribeInstances 401 AuthFailure: /);
    expect(err.status).toBe(401);
    expect(JSON.stringify({ message: err.message, stack: err.stack, cause: String(err.cause) })).not.toContain(wrong);
    expect(h.server.requests).toHaveLength(1);
    expect(h.server.failures).toEqual(['DescribeInstances: signature rejected: signature mismatch']);
  });

  it('retries RequestLimitExceeded (503) on reads and then succeeds', async () => {
    const h = await open();
    h.server.failNext('DescribeInstances', { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' }, 2);
    expect(await h.driver.listNodes()).toHaveLength(5);
    expect(h.server.requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(h.ctx.calls.get('DescribeInstances')).toBe(3);
  });

  it('gives up with a RateLimitedError after the retries, and never retries a non-idempotent create', async () => {
    const h = await open();
    h.server.failNext('DescribeImages', { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' }, 10);
    const err = await expectTypedError(h.driver.listImages(), RateLimitedError);
    expect(err.retryable).toBe(true);
    expect(h.server.requests).toHaveLength(4);
    h.server.failNext('CreateKeyPair', { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' }, 1);
    await expectTypedError(h.driver.createKeyPair!('k1'), RateLimitedError);
    expect(h.server.requests.filter((r) => r.action === 'CreateKeyPair')).toHaveLength(1);
  });

  it('reads credentials from the environment and from a profile in HOME', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'skygraph-ec2-home-'));
    try {
      const server = await startEc2Server({ credentials: { AKIDFROMENV: 'env-secret-1234567890', AKIDFROMFILE: 'file-secret-0987654321' } });
      opened.push({ server, driver: undefined as never, ctx: undefined as never, close: () => server.close() });
      for (const name of ['AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION']) vi.stubEnv(name, undefined);
      vi.stubEnv('HOME', home);
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret-1234567890');
      const viaEnv = ec2Provider.create(testDriverContext({ driver: 'ec2', regions: ['us-east-1'], endpoint: server.url }, { region: 'us-east-1' }));
      expect(await viaEnv.compute!.listNodes()).toHaveLength(5);
      await viaEnv.close?.();

      await mkdir(path.join(home, '.aws'));
      await writeFile(path.join(home, '.aws', 'credentials'), '[ops]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = file-secret-0987654321\n');
      const viaProfile = ec2Provider.create(
        testDriverContext({ driver: 'ec2', regions: ['us-east-1'], endpoint: server.url, options: { profile: 'ops' } }, { region: 'us-east-1' }),
      );
      expect(await viaProfile.compute!.listLocations()).toHaveLength(3);
      await viaProfile.close?.();
      expect(server.failures).toEqual([]);
      expect(server.requests.map((r) => r.accessKeyId)).toEqual(['AKIDFROMENV', 'AKIDFROMFILE']);

      vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
      const none = ec2Provider.create(testDriverContext({ driver: 'ec2', regions: ['us-east-1'], endpoint: server.url }, { region: 'us-east-1' }));
      const err = await expectTypedError(none.compute!.listNodes(), AuthenticationError);
      expect(err.message).toMatch(/no AWS credentials found/);
      expect(server.requests).toHaveLength(2);
      await none.close?.();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('ec2: multi-region through the GraphQL API', () => {
  let server: Ec2Server;
  beforeAll(async () => {
    server = await startEc2Server({ failingRegions: ['eu-west-1'] });
  });
  afterAll(() => server.close());

  it('a failing region is a partial failure of that region only', async () => {
    const t = await startTestApp({
      accounts: [{ id: 'aws', driver: 'ec2', regions: ['us-east-1', 'eu-west-1'], endpoint: server.url, credentials: CREDENTIALS }],
    });
    try {
      const r = await t.gql<{
        nodes: { totalCount: number; edges: { node: { name: string; region: string; image: { name: string } | null; size: { name: string; price: number } | null } }[]; failures: { account: string; region: string; code: string; retryable: boolean }[] };
      }>('{ nodes(filter: { accounts: ["aws"] }, first: 100) { totalCount edges { node { name region image { name } size { name price } } } failures { account region code retryable } } }');
      expect(r.data!.nodes.totalCount).toBe(5);
      const web = r.data!.nodes.edges.find((e) => e.node.name === 'web-1')!.node;
      expect(web).toMatchObject({ region: 'us-east-1', image: { name: 'skygraph-web-2024-05' }, size: { name: 't3.micro', price: 0.0104 } });
      expect(r.data!.nodes.edges.find((e) => e.node.name === 'batch-7')!.node.image).toBeNull();
      expect(r.data!.nodes.failures).toEqual([{ account: 'aws', region: 'eu-west-1', code: 'UNAVAILABLE', retryable: true }]);
      expect(r.errors).toHaveLength(1);
      expect(JSON.stringify(r)).not.toContain(EC2_TEST_SECRET);
      expect(t.calls('aws', 'DescribeImages')).toBe(1);
      const regions = server.requests.filter((q) => q.action === 'DescribeInstances').map((q) => q.region);
      expect(regions.filter((x) => x === 'us-east-1')).toHaveLength(1);
      expect(regions.filter((x) => x === 'eu-west-1').length).toBeGreaterThan(1);
      expect(server.failures).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});

describe('ec2: copyImage between regions through the GraphQL API', () => {
  it('sends CopyImage to the destination region and the copy lists there only', async () => {
    const server = await startEc2Server();
    const t = await startTestApp({
      accounts: [{ id: 'aws', driver: 'ec2', regions: ['us-east-1', 'eu-west-1'], endpoint: server.url, credentials: CREDENTIALS }],
    });
    try {
      const node = (await t.gql<{ nodes: { edges: { node: { id: string; name: string; region: string } }[] } }>('{ nodes(filter: { accounts: ["aws"] }) { edges { node { id name region } } } }'))
        .data!.nodes.edges.find((e) => e.node.name === 'web-1')!.node;
      expect(node.region).toBe('us-east-1');
      const made = await t.gql<{ createImage: { image: { id: string; nativeId: string; region: string } } }>(
        'mutation($n: ID!) { createImage(input: { node: $n, name: "web golden" }) { image { id nativeId region } } }',
        { n: node.id },
      );
      expect(made.errors).toBeUndefined();
      const image = made.data!.createImage.image;
      expect(image.region).toBe('us-east-1');

      const needsRegion = await t.gql('mutation($i: ID!) { copyImage(input: { image: $i, region: "ap-south-9", name: "web golden" }) { image { id } } }', { i: image.id });
      expect(needsRegion.errors?.[0]?.message).toBe('argument "input.region": account "aws" has no region "ap-south-9"');

      const result = await t.gql<{ copyImage: { image: { id: string; nativeId: string; region: string; name: string; extra: Record<string, unknown> } } }>(
        'mutation($i: ID!) { copyImage(input: { image: $i, region: "eu-west-1", name: "web golden", description: "for europe" }) { image { id nativeId region name extra } } }',
        { i: image.id },
      );
      expect(result.errors).toBeUndefined();
      const copied = result.data!.copyImage.image;
      expect(copied).toMatchObject({ region: 'eu-west-1', name: 'web golden', extra: { sourceRegion: 'us-east-1', state: 'pending' } });
      const sent = server.requests.filter((r) => r.action === 'CopyImage');
      expect(sent).toHaveLength(1);
      expect(sent[0]!.region).toBe('eu-west-1');
      expect(Object.fromEntries(sent[0]!.params)).toMatchObject({ SourceRegion: 'us-east-1', SourceImageId: image.nativeId, Name: 'web golden', Description: 'for europe' });
      expect(sent[0]!.params.get('ClientToken')).toMatch(/^[0-9a-f-]{36}$/);

      const inRegion = async (region: string) =>
        (
          await t.gql<{ images: { edges: { node: { nativeId: string } }[] } }>(
            'query($r: String!) { images(filter: { accounts: ["aws"], owner: "self", regions: [$r] }, first: 100) { edges { node { nativeId } } } }',
            { r: region },
          )
        ).data!.images.edges.map((e) => e.node.nativeId);
      expect(await inRegion('eu-west-1')).toContain(copied.nativeId);
      expect(await inRegion('us-east-1')).not.toContain(copied.nativeId);
      expect(server.failures).toEqual([]);
    } finally {
      await t.stop();
      await server.close();
    }
  });
});

describe('ec2: AWS error bodies and account validation', () => {
  const info = (status: number, bodyText: string, operation = 'DescribeInstances') => ({ status, headers: {}, bodyText, operation });
  const ec2Body = (code: string, message: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>req-1</RequestID></Response>`;
  const elbBody = (code: string, message: string) =>
    `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`;

  it('maps the EC2 and ELB error shapes to typed errors with the request id', () => {
    const cases: [number, string, new (...a: never[]) => Error][] = [
      [401, ec2Body('AuthFailure', 'AWS was not able to validate the provided access credentials'), AuthenticationError],
      [403, elbBody('SignatureDoesNotMatch', 'The request signature we calculated does not match'), AuthenticationError],
      [403, elbBody('InvalidClientTokenId', 'The security token included in the request is invalid.'), AuthenticationError],
      [503, ec2Body('RequestLimitExceeded', 'Request limit exceeded.'), RateLimitedError],
      [400, elbBody('Throttling', 'Rate exceeded'), RateLimitedError],
      [400, ec2Body('InvalidInstanceID.NotFound', "The instance ID 'i-1' does not exist"), NotFoundError],
      [400, elbBody('LoadBalancerNotFound', 'There is no ACTIVE Load Balancer named x'), NotFoundError],
      [400, ec2Body('InvalidInstanceID.Malformed', 'Invalid id: "x"'), InvalidInputError],
      [400, ec2Body('InvalidParameterValue', 'Value (x) for parameter y is invalid'), InvalidInputError],
      [400, ec2Body('InvalidKeyPair.Duplicate', "The keypair 'k' already exists."), ConflictError],
      [400, ec2Body('IncorrectInstanceState', 'The instance is not in a state from which it can be started.'), ConflictError],
      [400, elbBody('DuplicateLoadBalancerName', 'exists'), ConflictError],
      [400, ec2Body('InstanceLimitExceeded', 'You have requested more instances than your current instance limit'), ProviderError],
    ];
    for (const [status, body, type] of cases) {
      const err = parseAwsError(info(status, body), 'ec2');
      expect(err, body).toBeInstanceOf(type);
      expect(err!.requestId).toMatch(/^req-[12]$/);
      expect(err!.message).toMatch(new RegExp(`^\\[ec2\\] DescribeInstances ${status} \\w`));
    }
    expect(parseAwsError(info(500, ec2Body('InternalError', 'x')))!.retryable).toBe(true);
    expect(parseAwsError(info(503, ec2Body('Unavailable', 'x')))).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    // a 503 whose code no rule knows is still the service saying it cannot serve now
    expect(parseAwsError(info(503, ec2Body('SomethingNew', 'x')))).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(parseAwsError(info(502, '<html><body>Bad gateway</body></html>'))).toBeUndefined();
    expect(parseAwsError(info(500, ''))).toBeUndefined();
    expect(parseAwsError({ ...info(400, ec2Body('Throttling', 'x')), requestId: 'from-header' })!.requestId).toBe('from-header');
  });

  it('cuts the echoed canonical request out of SignatureDoesNotMatch messages', () => {
    const body = elbBody(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n\'POST\n/\nx-amz-security-token:SESSIONTOKEN123\'',
    );
    const err = parseAwsError(info(403, body), 'elb')!;
    expect(err.message).toBe('[elb] DescribeInstances 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.');
  });

  it('validates accounts without echoing values', () => {
    const account = (a: Partial<AccountConfig>): AccountConfig => ({ id: 'a', driver: 'ec2', regions: ['us-east-1'], credentials: {}, options: {}, pollIntervalMs: 5000, timeoutMs: 5000, ...a });
    expect(validateEc2Account(account({ credentials: CREDENTIALS, options: { profile: 'ops' } }))).toEqual([]);
    const problems = validateEc2Account(
      account({ credentials: { accessKeyId: 'AKIDSECRETVALUE', password: 'hunter22' }, options: { latency: 1 }, regions: ['us-east-1', 'Mars One'] }),
    );
    expect(problems).toEqual([
      'credentials.password is not an ec2 credential (known: accessKeyId, secretAccessKey, sessionToken, profile)',
      'credentials.secretAccessKey is required with credentials.accessKeyId',
      'options.latency is not an ec2 option (known: profile)',
      'regions[1] is not an AWS region name (like us-east-1)',
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/AKIDSECRETVALUE|hunter22|Mars/);
    expect(validateEc2Account(account({ regions: ['moon-base'], endpoint: 'http://127.0.0.1:9' }))).toEqual([]);
    expect(ec2Provider).toMatchObject({ name: 'ec2', services: ['COMPUTE'], regional: true, defaultRegion: 'us-east-1' });
  });
});
