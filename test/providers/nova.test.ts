import { describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError, NotFoundError } from '../../src/providers/errors.ts';
import {
  OPENSTACK_VARIANT,
  RACKSPACE_VARIANT,
  createNovaInstance,
  openstackProvider,
  rackspaceProvider,
  validateNovaAccount,
  type NovaDeps,
  type NovaVariant,
} from '../../src/providers/openstack/nova/index.ts';
import { NODE_STATE, toNodeState } from '../../src/providers/openstack/nova/states.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig, ComputeDriver, Node } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil, uniqueName } from '../conformance/assertions.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import {
  KEYSTONE_TEST_USER,
  NOVA_NETWORK_ID,
  OPENSTACK_TEST_TOKEN,
  md5Fingerprint,
  startNovaServer,
  type NovaServerOptions,
  type NovaTestServer,
} from '../helpers/openstack-server.ts';

const FAST: NovaDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const CIRROS = '8e00d281-5611-4586-abdf-bf8f5db7c5b0';
const UBUNTU = '11cc04d8-8549-4aae-892f-b8dd788d8168';
const SNAPSHOT = '25e2cc4b-5295-4703-a94a-f2916e99e08b';
const WEB_1 = '86b1d6f4-8368-4294-a526-18fdcea386fc';
const DB_1 = '65d549a4-f197-473e-a06e-d7079ac12a83';
const MISSING = '00000000-dead-4bad-8bad-000000000000';

type Harness = DriverHarness<NovaTestServer, ComputeDriver>;

async function harness(
  opts: { server?: NovaServerOptions; variant?: NovaVariant; glance?: boolean; account?: Partial<AccountConfig>; deps?: NovaDeps; region?: string } = {},
): Promise<Harness> {
  const variant = opts.variant ?? OPENSTACK_VARIANT;
  const server = await startNovaServer({ variant: variant.name === 'rackspace' ? 'rackspace' : 'openstack', ...opts.server });
  const region = opts.region ?? (variant.regionCountries ? 'DFW' : undefined);
  const ctx = testDriverContext(
    {
      driver: variant.name,
      regions: region ? [region] : [],
      endpoint: server.computeUrl,
      credentials: { token: OPENSTACK_TEST_TOKEN },
      options: opts.glance === false ? {} : { imageEndpoint: server.imageUrl },
      ...opts.account,
    },
    { region },
  );
  const instance = createNovaInstance(ctx, variant, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.compute!);
}

const CAPABILITIES = ['getNodes', 'getImages', 'rebootNode', 'startNode', 'stopNode', 'listKeyPairs', 'getKeyPair', 'createKeyPair', 'importKeyPair', 'deleteKeyPair'] as const;
let openstackServer: NovaTestServer | undefined;

testComputeDriver({
  name: 'openstack',
  async create() {
    // why: a max_limit of 2 makes every listing in the suite follow next links
    const h = await harness({ server: { maxLimit: 2, transitionMs: 80 } });
    openstackServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: CAPABILITIES,
  createNodeInput: () => ({ name: uniqueName(), sizeId: '1', imageId: CIRROS, locationId: 'nova', keyName: 'deploy', userData: '#cloud-config\n', ex: { networks: [NOVA_NETWORK_ID] } }),
  waitFor: pollUntil({ intervalMs: 25, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingNodeId: MISSING,
  missingImageId: MISSING,
  secrets: [OPENSTACK_TEST_TOKEN],
});

testComputeDriver({
  name: 'rackspace',
  async create() {
    const h = await harness({ variant: RACKSPACE_VARIANT, glance: false, server: { transitionMs: 80 } });
    return conformanceTarget(h, () =>
      expect(h.server.created.at(-1)?.networks).toEqual([{ uuid: '00000000-0000-0000-0000-000000000000' }, { uuid: '11111111-1111-1111-1111-111111111111' }]),
    );
  },
  capabilities: CAPABILITIES,
  waitFor: pollUntil({ intervalMs: 25, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingNodeId: MISSING,
  missingImageId: MISSING,
  secrets: [OPENSTACK_TEST_TOKEN],
});

describe('openstack: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) });

  it('the conformance run sent the token on every request and followed next links', () => {
    const reqs = openstackServer!.requests;
    expect(reqs.length).toBeGreaterThan(20);
    expect(reqs.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
    expect(reqs.some((r) => r.path.endsWith('/servers/detail') && r.query.has('marker'))).toBe(true);
  });

  it('maps servers: states, addresses split by floating/range, flavor, image, zone, dates', async () => {
    const nodes = await h.driver.listNodes();
    const byName = Object.fromEntries(nodes.map((n) => [n.name, n])) as Record<string, Node>;
    expect(Object.keys(byName).sort()).toEqual(['broken-1', 'build-1', 'db-1', 'web-1', 'worker-1']);
    expect(byName['web-1']).toMatchObject({
      id: WEB_1,
      state: 'running',
      publicIps: ['172.24.4.10', '2001:db8:3c4d:15::1a2f'],
      privateIps: ['10.0.0.5', 'fd4e:7a11:9c2d::5'],
      sizeId: '2',
      imageId: UBUNTU,
      locationId: 'nova',
      createdAt: new Date('2024-05-14T08:31:02Z'),
    });
    expect(byName['web-1']!.tags).toEqual({ role: 'web', team: 'storefront & checkout' });
    expect(byName['web-1']!.extra).toMatchObject({ keyName: 'deploy', securityGroups: ['default', 'web'], networks: ['private', 'provider-v6'] });
    expect(byName['db-1']).toMatchObject({ state: 'stopped', imageId: null, privateIps: ['192.168.10.4'], publicIps: [], locationId: 'az2' });
    expect(byName['db-1']!.extra.volumesAttached).toEqual(['2b3f1f7a-5d3c-4b0e-9a54-7b8f0c1d2e3f']);
    // task_state powering-off outranks ACTIVE; accessIPv4 counts as public
    expect(byName['worker-1']).toMatchObject({ state: 'stopping', publicIps: ['198.51.100.77'], privateIps: ['10.0.0.17'] });
    expect(byName['build-1']).toMatchObject({ state: 'pending', publicIps: [], privateIps: [], locationId: null });
    // an ERROR server stays error while a delete is in flight
    expect(byName['broken-1']!.state).toBe('error');
    expect(h.server.failures).toEqual([]);
    expect(h.ctx.calls.get('GET /servers/detail')).toBe(1);
  });

  it('follows servers_links next to the end (max_limit 2: pages of 2, 2, 1)', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 2 } });
    const nodes = await h.driver.listNodes();
    expect(nodes).toHaveLength(5);
    const calls = h.server.requests.filter((r) => r.path === '/compute/v2.1/servers/detail');
    expect(calls.map((r) => r.query.get('marker'))).toEqual([null, DB_1, 'a91b321d-bcc1-421a-a57d-01dd4dfe0fd2']);
    expect(calls.map((r) => r.query.get('limit'))).toEqual(['1000', '2', '2']);
    expect(h.server.failures).toEqual([]);
  });

  it('follows Glance next links and Nova flavors_links', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 2 } });
    expect((await h.driver.listImages()).map((i) => i.id)).toEqual([CIRROS, UBUNTU, SNAPSHOT]);
    expect(h.server.requests.filter((r) => r.path === '/image/v2/images').map((r) => r.query.get('marker'))).toEqual([null, UBUNTU]);
    expect((await h.driver.listSizes()).map((s) => s.id)).toEqual(['1', '2', '3', 'c1.gpu']);
    expect(h.server.requests.filter((r) => r.path.endsWith('/flavors/detail'))).toHaveLength(3);
    expect(h.server.failures).toEqual([]);
  });

  it('getNodes answers a batch with one servers/detail listing', async () => {
    const got = await h.driver.getNodes!([DB_1, MISSING, WEB_1]);
    expect(got.map((n) => n?.name ?? null)).toEqual(['db-1', null, 'web-1']);
    expect(h.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /compute/v2.1/servers/detail']);
  });

  it('getImages asks Glance once with id=in:', async () => {
    const got = await h.driver.getImages!([SNAPSHOT, MISSING, CIRROS]);
    expect(got.map((i) => i?.name ?? null)).toEqual(['web-1-snapshot', null, 'cirros-0.6.2-x86_64-disk']);
    expect(h.server.requests).toHaveLength(1);
    expect(h.server.requests[0]!.query.get('id')).toBe(`in:${SNAPSHOT},${MISSING},${CIRROS}`);
    expect(got[0]!.extra).toMatchObject({ visibility: 'private', owner: '6f70656e737461636b20342065766572', minDisk: 20 });
  });

  it('filters Glance images by name and owner upstream', async () => {
    expect((await h.driver.listImages({ name: 'ubuntu-24.04-server' })).map((i) => i.id)).toEqual([UBUNTU]);
    expect((await h.driver.listImages({ owner: '6f70656e737461636b20342065766572' })).map((i) => i.id)).toEqual([SNAPSHOT]);
    expect(h.server.requests.map((r) => [r.query.get('name'), r.query.get('owner')])).toEqual([
      ['ubuntu-24.04-server', null],
      [null, '6f70656e737461636b20342065766572'],
    ]);
  });

  it("uses Nova's images API without an image endpoint, one listing per batch", async () => {
    await h.close();
    h = await harness({ glance: false });
    expect((await h.driver.listImages()).map((i) => i.id)).toEqual([CIRROS, UBUNTU, SNAPSHOT]);
    expect((await h.driver.getImages!([UBUNTU, MISSING])).map((i) => i?.id ?? null)).toEqual([UBUNTU, null]);
    expect((await h.driver.listImages({ name: 'web-1-snapshot' })).map((i) => i.id)).toEqual([SNAPSHOT]);
    expect(h.server.requests.map((r) => r.path)).toEqual(Array(3).fill('/compute/v2.1/images/detail'));
    expect(h.server.failures).toEqual([]);
  });

  it('maps flavors to sizes with a null price, or the price from options.prices', async () => {
    const sizes = await h.driver.listSizes();
    expect(sizes.find((s) => s.id === '3')).toEqual({
      id: '3', name: 'm1.medium', ram: 4096, disk: 40, bandwidth: null, price: null,
      extra: { vcpus: 2, swap: 1024, ephemeral: 10, rxtxFactor: 1, isPublic: true },
    });
    await h.close();
    h = await harness({ account: { options: { prices: { 'm1.small': 0.023, 'c1.gpu': 1.5 } } } });
    const priced = Object.fromEntries((await h.driver.listSizes()).map((s) => [s.id, s.price]));
    expect(priced).toEqual({ 1: null, 2: 0.023, 3: null, 'c1.gpu': 1.5 });
  });

  it('lists availability zones as locations', async () => {
    expect(await h.driver.listLocations()).toEqual([
      { id: 'nova', name: 'nova', country: '', extra: { available: true } },
      { id: 'az2', name: 'az2', country: '', extra: { available: true } },
    ]);
  });

  it('creates a server with the documented body and microversion 2.37', async () => {
    const node = await h.driver.createNode({
      name: 'api-7',
      sizeId: '2',
      imageId: UBUNTU,
      locationId: 'az2',
      keyName: 'deploy',
      userData: '#!/bin/sh\necho héllo\n',
      tags: { team: 'api' },
      ex: { networks: [NOVA_NETWORK_ID], metadata: { env: 'prod' }, securityGroups: ['web'] },
    });
    expect(node).toMatchObject({ name: 'api-7', state: 'pending', sizeId: '2', imageId: UBUNTU, locationId: 'az2' });
    expect(node.extra).not.toHaveProperty('adminPass');
    expect(h.server.created).toEqual([
      {
        name: 'api-7',
        flavorRef: '2',
        imageRef: UBUNTU,
        key_name: 'deploy',
        user_data: Buffer.from('#!/bin/sh\necho héllo\n').toString('base64'),
        availability_zone: 'az2',
        networks: [{ uuid: NOVA_NETWORK_ID }],
        metadata: { env: 'prod', team: 'api' },
        security_groups: [{ name: 'web' }],
      },
    ]);
    const post = h.server.requests.find((r) => r.method === 'POST')!;
    expect(post.headers['x-openstack-nova-api-version']).toBe('2.37');
    expect(post.headers['openstack-api-version']).toBe('compute 2.37');
    expect(h.server.failures).toEqual([]);
  });

  it("defaults networks to 'auto' and rejects an sshKey without keyName", async () => {
    await h.driver.createNode({ name: 'auto-net', sizeId: '1', imageId: CIRROS });
    expect(h.server.created[0]!.networks).toBe('auto');
    const err = await expectTypedError(h.driver.createNode({ name: 'x', sizeId: '1', imageId: CIRROS, sshKey: 'ssh-ed25519 AAAA' }), InvalidInputError, 'sshKey');
    expect(err.message).toContain('importKeyPair');
    expect(h.server.created).toHaveLength(1);
  });

  it('sends soft and hard reboots, os-stop and os-start actions', async () => {
    await h.driver.rebootNode!(WEB_1);
    await pollUntil({ intervalMs: 20, timeoutMs: 3000 })(async () => (await h.driver.getNodes!([WEB_1]))[0]?.state === 'running', 'web-1 running');
    await h.driver.rebootNode!(WEB_1, { hard: true });
    await h.driver.startNode!(DB_1);
    const actions = h.server.requests.filter((r) => r.path.endsWith('/action')).map((r) => JSON.parse(r.body.toString()) as unknown);
    expect(actions).toEqual([{ reboot: { type: 'SOFT' } }, { reboot: { type: 'HARD' } }, { 'os-start': null }]);
    expect((await h.driver.getNodes!([WEB_1, DB_1])).map((n) => n?.state)).toEqual(['rebooting', 'starting']);
    expect(h.server.failures).toEqual([]);
  });

  it('maps key pairs with the MD5 fingerprint Nova computes', async () => {
    const [k] = await h.driver.listKeyPairs!();
    expect(k).toMatchObject({ name: 'deploy', publicKey: expect.stringMatching(/^ssh-ed25519 \S+ deploy@ci$/) as unknown });
    expect(k!.fingerprint).toBe(md5Fingerprint(k!.publicKey!));
    expect(k).not.toHaveProperty('privateKey');
    await expectTypedError(h.driver.getKeyPair!('nope'), NotFoundError);
  });

  it('answers a 401 with AuthenticationError that does not carry the token, after one re-sign', async () => {
    await h.close();
    h = await harness({ account: { credentials: { token: 'gAAAAAB-wrong-token-0123456789' } } });
    const err = await expectTypedError(h.driver.listNodes(), AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).toContain('401');
    expect(err.message).not.toContain('gAAAAAB-wrong-token-0123456789');
    expect(JSON.stringify(err)).not.toContain('gAAAAAB-wrong-token-0123456789');
    expect(h.server.requests).toHaveLength(2);
    expect(h.server.failures).toEqual([]);
  });
});

describe('openstack: Keystone', () => {
  it('signs in with a v3 password, takes compute and image endpoints from the catalog, and keeps the password out of errors', async () => {
    const server = await startNovaServer();
    const credentials = {
      auth_url: `${server.url}/identity/v3`,
      username: KEYSTONE_TEST_USER.username,
      password: KEYSTONE_TEST_USER.password,
      project_name: KEYSTONE_TEST_USER.project,
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    };
    const ctx = testDriverContext({ id: `kc-${uniqueName()}`, driver: 'openstack', regions: ['RegionOne'], credentials }, { region: 'RegionOne' });
    const instance = createNovaInstance(ctx, OPENSTACK_VARIANT, FAST);
    const bad = testDriverContext({ id: `kc-bad-${uniqueName()}`, driver: 'openstack', regions: ['RegionOne'], credentials: { ...credentials, password: 'Wr0ng-Passw0rd-xyz' } }, { region: 'RegionOne' });
    const badInstance = createNovaInstance(bad, OPENSTACK_VARIANT, FAST);
    try {
      expect(validateNovaAccount(ctx.account, OPENSTACK_VARIANT)).toEqual([]);
      expect(await instance.compute!.listNodes()).toHaveLength(5);
      expect((await instance.compute!.getImages!([CIRROS]))[0]?.id).toBe(CIRROS);
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /identity/v3/auth/tokens', 'GET /compute/v2.1/servers/detail', 'GET /image/v2/images']);
      const err = await expectTypedError(badInstance.compute!.listNodes(), AuthenticationError);
      expect(err.message).not.toContain('Wr0ng-Passw0rd-xyz');
      expect(server.failures).toEqual([]);
    } finally {
      await instance.close?.();
      await badInstance.close?.();
      await server.close();
    }
  });

  it('rackspace signs in with an API key (v2.0 RAX-KSKEY) and uses the region from the catalog', async () => {
    const server = await startNovaServer({ variant: 'rackspace' });
    const credentials = { auth_url: `${server.url}/identity/v2.0`, username: KEYSTONE_TEST_USER.username, api_key: KEYSTONE_TEST_USER.apiKey };
    const ctx = testDriverContext({ id: `rax-${uniqueName()}`, driver: 'rackspace', regions: ['DFW'], credentials }, { region: 'DFW' });
    const instance = createNovaInstance(ctx, RACKSPACE_VARIANT, FAST);
    try {
      expect(validateNovaAccount(ctx.account, RACKSPACE_VARIANT)).toEqual([]);
      const nodes = await instance.compute!.listNodes();
      expect(nodes.map((n) => n.name)).toContain('web-1');
      // no Glance in a Rackspace catalog here: images come from Nova
      expect((await instance.compute!.listImages()).length).toBe(3);
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /identity/v2.0/tokens', 'GET /compute/v2.1/servers/detail', 'GET /compute/v2.1/images/detail']);
      expect(JSON.stringify(nodes)).not.toContain(KEYSTONE_TEST_USER.apiKey);
      expect(server.failures).toEqual([]);
    } finally {
      await instance.close?.();
      await server.close();
    }
  });
});

describe('openstack: state map', () => {
  it.each([
    ['ACTIVE', null, 'running'],
    ['BUILD', 'spawning', 'pending'],
    ['REBOOT', 'reboot_started', 'rebooting'],
    ['HARD_REBOOT', null, 'rebooting'],
    ['SHUTOFF', null, 'stopped'],
    ['SHUTOFF', 'powering-on', 'starting'],
    ['ACTIVE', 'powering-off', 'stopping'],
    ['SUSPENDED', null, 'suspended'],
    ['PAUSED', null, 'paused'],
    ['ERROR', null, 'error'],
    ['ERROR', 'deleting', 'error'],
    ['DELETED', null, 'terminated'],
    ['SOFT_DELETED', null, 'terminated'],
    ['RESIZE', 'resize_prep', 'reconfiguring'],
    ['VERIFY_RESIZE', null, 'reconfiguring'],
    ['MIGRATING', 'migrating', 'migrating'],
    ['SHELVED', null, 'stopped'],
    ['SHELVED_OFFLOADED', null, 'stopped'],
    ['RESCUE', null, 'pending'],
    ['UNKNOWN', null, 'unknown'],
    ['SOMETHING_NEW', null, 'unknown'],
    [undefined, null, 'unknown'],
  ] as const)('%s / %s -> %s', (status, task, state) => {
    expect(toNodeState(status, task)).toBe(state);
  });

  it('maps every documented status', () => {
    expect(Object.keys(NODE_STATE).sort()).toEqual(
      ['ACTIVE', 'BUILD', 'DELETED', 'ERROR', 'HARD_REBOOT', 'MIGRATING', 'PASSWORD', 'PAUSED', 'REBOOT', 'REBUILD', 'RESCUE', 'RESIZE', 'REVERT_RESIZE', 'SHELVED', 'SHELVED_OFFLOADED', 'SHUTOFF', 'SOFT_DELETED', 'STOPPED', 'SUSPENDED', 'UNKNOWN', 'VERIFY_RESIZE'].sort(),
    );
  });
});

describe('openstack: accounts and registry', () => {
  const account = (a: Partial<AccountConfig>): AccountConfig => ({ id: 'a', driver: 'openstack', regions: [], credentials: {}, options: {}, pollIntervalMs: 1000, timeoutMs: 1000, ...a });

  it('validates accounts naming fields, never values', () => {
    const problems = validateNovaAccount(account({ credentials: { token: '', secretish: 'hunter2' }, options: { prices: { a: -1 }, imageEndpoint: 'nope' } }), OPENSTACK_VARIANT);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problems).toEqual([
      expect.stringContaining('credentials.secretish'),
      expect.stringContaining('credentials.token is required'),
      expect.stringContaining('endpoint is required'),
      expect.stringContaining('options.prices'),
      expect.stringContaining('options.imageEndpoint'),
    ]);
    expect(validateNovaAccount(account({ credentials: { auth_url: 'http://127.0.0.1:1/v3', username: 'u', password: 'p', project_name: 'x' } }), OPENSTACK_VARIANT)).toEqual([]);
    expect(validateNovaAccount(account({ credentials: { token: 't' }, endpoint: 'http://127.0.0.1:1/v2.1' }), OPENSTACK_VARIANT)).toEqual([]);
    expect(validateNovaAccount(account({ driver: 'rackspace', credentials: { token: 't' }, endpoint: 'http://127.0.0.1:1/v2', regions: ['DFW', 'XYZ'] }), RACKSPACE_VARIANT)).toEqual([
      expect.stringContaining('regions[1]'),
    ]);
  });

  it('rackspace lists its region as the location, with its country', async () => {
    const h = await harness({ variant: RACKSPACE_VARIANT, glance: false, region: 'LON' });
    try {
      expect(await h.driver.listLocations()).toEqual([{ id: 'LON', name: 'LON', country: 'GB', extra: {} }]);
      expect(h.server.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('registers openstack, rackspace, octavia and rackspace-clb', async () => {
    expect(await loadProvider('openstack')).toBe(openstackProvider);
    expect(await loadProvider('rackspace')).toBe(rackspaceProvider);
    expect(rackspaceProvider).toMatchObject({ regional: true, services: ['COMPUTE'] });
    expect((await loadProvider('octavia'))?.services).toEqual(['LOADBALANCER']);
    expect((await loadProvider('rackspace-clb'))?.services).toEqual(['LOADBALANCER']);
  });
});
