import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError } from '../../src/providers/errors.ts';
import { NODE_STATE, createHetznerInstance, createHetznerLbInstance, validateHetznerAccount, validateHetznerLbAccount } from '../../src/providers/hetzner/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig } from '../../src/providers/types.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { HETZNER_ROOT_PASSWORD, HETZNER_TEST_TOKEN, startHetznerServer, type HetznerTestServer } from '../helpers/hetzner-server.ts';
import { REST_COMPUTE_CAPABILITIES, REST_WAIT, restPairHarness, type RestCloud, type RestHarnessOptions, type RestPair } from '../helpers/rest-cloud.ts';

const SECRETS = [HETZNER_TEST_TOKEN, HETZNER_ROOT_PASSWORD];

const CLOUD: RestCloud = { driver: 'hetzner', token: HETZNER_TEST_TOKEN, options: { location: 'fsn1' }, compute: createHetznerInstance, lb: createHetznerLbInstance };
type Harness = DriverHarness<HetznerTestServer, RestPair>;
const harness = async (opts: RestHarnessOptions = {}): Promise<Harness> => restPairHarness(await startHetznerServer(), CLOUD, opts);

let conformanceServer: HetznerTestServer | undefined;
let conformanceLogs: unknown[] = [];
testComputeDriver({
  name: 'hetzner',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    conformanceLogs = h.ctx.logs;
    return { driver: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: REST_COMPUTE_CAPABILITIES,
  missingNodeId: '999999999',
  missingImageId: '1',
  secrets: SECRETS,
  ...REST_WAIT,
});

testLoadBalancerDriver({
  name: 'hetzner-lb',
  async create() {
    const h = await harness();
    return { driver: h.driver.lb, compute: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: ['updateBalancer', 'attachNode'],
  memberMode: 'instance',
  createInput: (base, nodes) => ({ ...base, ex: { serverIds: nodes.map((n) => n.id), destinationPort: 8080 } }),
  missingBalancerId: '999999',
  secrets: SECRETS,
  ...REST_WAIT,
});

describe('hetzner: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the bearer token on every request, waited for every action and never kept the root password', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(10);
    expect(reqs.every((r) => r.headers.authorization === `Bearer ${HETZNER_TEST_TOKEN}`)).toBe(true);
    expect(conformanceServer!.posted.filter((p) => p.path.startsWith('servers/actions/')).map((p) => p.path)).toEqual([
      'servers/actions/reboot', 'servers/actions/poweroff', 'servers/actions/poweron',
    ]);
    expect(reqs.filter((r) => r.path.startsWith('/v1/actions/')).length).toBeGreaterThan(3);
    expect(JSON.stringify(conformanceLogs)).not.toContain(HETZNER_ROOT_PASSWORD);
  });

  it('maps servers: IPv4, the first address of the IPv6 network, private network, type, image, location, labels', async () => {
    const nodes = await h.driver.compute.listNodes();
    expect(nodes.find((n) => n.name === 'web-1')).toMatchObject({
      id: '42918831', state: 'running', publicIps: ['116.203.45.17', '2a01:4f8:c17:3a5e::1'], privateIps: ['10.0.0.2'],
      sizeId: 'cx22', imageId: '161547269', locationId: 'fsn1', tags: { env: 'prod', role: 'web' },
      extra: { datacenter: 'fsn1-dc14', ipv6Network: '2a01:4f8:c17:3a5e::/64' },
    });
    expect(nodes.find((n) => n.name === 'db-1')).toMatchObject({ state: 'stopped', publicIps: ['49.12.201.40'], locationId: 'nbg1' });
  });

  it('lists every page with one call per page, never one per item', async () => {
    await h.close();
    h = await harness({ deps: { pageSize: 2 } });
    expect(await h.driver.compute.listImages()).toHaveLength(5);
    const gets = h.server.requests.filter((r) => r.path === '/v1/images');
    expect(gets.map((r) => [r.query.get('page'), r.query.get('per_page')])).toEqual([['1', '2'], ['2', '2'], ['3', '2']]);
    expect(h.ctx.totalCalls()).toBe(3);
  });

  it('maps server types: RAM from GB, the lowest gross price (EUR) and every location price', async () => {
    const sizes = await h.driver.compute.listSizes();
    expect(sizes.find((s) => s.id === 'cpx11')).toMatchObject({ ram: 2048, disk: 40, price: 0.008, extra: { cores: 2, currency: 'EUR', prices: { fsn1: { hourly: 0.008 }, ash: { hourly: 0.0089 } } } });
    expect(sizes.find((s) => s.id === 'cx11')?.extra.deprecated).toBe(true);
  });

  it('maps locations with countries and datacenters, and images with owners', async () => {
    const locations = await h.driver.compute.listLocations();
    expect(locations.find((l) => l.id === 'hel1')).toEqual({ id: 'hel1', name: 'Helsinki DC Park 1', country: 'FI', extra: { id: '3', city: 'Helsinki', networkZone: 'eu-central', datacenters: ['hel1-dc2'] } });
    const own = await h.driver.compute.listImages({ owner: 'self' });
    expect(own.map((i) => [i.id, i.name])).toEqual([['187334512', 'web-golden-2024-10']]);
    expect((await h.driver.compute.listImages({ name: 'web-golden-2024-10' })).map((i) => i.id)).toEqual(['187334512']);
    expect((await h.driver.compute.listImages({ name: 'ubuntu-24.04' })).map((i) => i.extra.architecture)).toEqual(['x86', 'arm']);
    expect((await h.driver.compute.getImages!(['debian-12', '187334512', 'nope'])).map((i) => i?.id ?? null)).toEqual(['114690387', '187334512', null]);
  });

  it('creates a server with labels and a key, waits for the create action and never returns the root password', async () => {
    const node = await h.driver.compute.createNode({ name: 'api-7', sizeId: 'cx22', imageId: 'debian-12', locationId: 'hel1', keyName: 'deploy', tags: { env: 'staging' }, userData: '#cloud-config\n' });
    expect(node).toMatchObject({ name: 'api-7', state: 'running', locationId: 'hel1', tags: { env: 'staging' } });
    expect(h.server.posted.at(-1)!.body).toEqual({ name: 'api-7', server_type: 'cx22', image: 'debian-12', start_after_create: true, location: 'hel1', ssh_keys: ['deploy'], user_data: '#cloud-config\n', labels: { env: 'staging' } });
    const bare = await h.driver.compute.createNode({ name: 'api-8', sizeId: 'cx22', imageId: '114690387' });
    expect(JSON.stringify(bare)).not.toContain(HETZNER_ROOT_PASSWORD);
    expect(JSON.stringify(h.ctx.logs)).not.toContain(HETZNER_ROOT_PASSWORD);
  });

  it('rejects bad create input naming the field, before any call', async () => {
    const base = { name: 'x', sizeId: 'cx22', imageId: 'debian-12' };
    await expectTypedError(h.driver.compute.createNode({ ...base, name: 'under_score' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.compute.createNode({ ...base, tags: { 'bad key!': 'x' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.compute.createNode({ ...base, sshKey: 'ssh-ed25519 AAAA' }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.compute.createNode({ ...base, locationId: 'fsn1', ex: { datacenter: 'fsn1-dc14' } }), InvalidInputError, 'ex.datacenter');
    await expectTypedError(h.driver.compute.rebootNode!(''), InvalidInputError, 'id');
    await expectTypedError(h.driver.lb.detachMember('2087213', 'nobody'), InvalidInputError, 'memberId');
    expect(h.server.requests).toHaveLength(0);
  });

  it('waits for each action, so back-to-back power changes do not meet a locked server', async () => {
    await h.driver.compute.rebootNode!('42918832', { hard: true });
    await h.driver.compute.stopNode!('42918832');
    await h.driver.compute.startNode!('42918832');
    expect(h.server.posted.map((p) => p.path)).toEqual(['servers/actions/reset', 'servers/actions/poweroff', 'servers/actions/poweron']);
    expect(h.server.servers.get('42918832')!.status).toBe('running');
  });

  it('retries a 429 after the RateLimit-Reset epoch second, with the delay asked for', async () => {
    const sleeps: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { maxDelayMs: 10_000 }, sleep: async (ms) => void sleeps.push(ms) } });
    const at = Date.UTC(2024, 9, 1, 12, 0, 0);
    h.ctx.clock.set(at);
    h.server.rest.rateLimit(1, { 'ratelimit-limit': '3600', 'ratelimit-remaining': '0', 'ratelimit-reset': String(at / 1000 + 4) });
    expect(await h.driver.compute.listSizes()).toHaveLength(5);
    expect(sleeps).toEqual([4000]);
  });

  it('maps a 429 that outlasts the retries to RateLimitedError with retryAfterMs', async () => {
    await h.close();
    h = await harness({ deps: { retry: { retries: 0 } } });
    h.ctx.clock.set(Date.UTC(2024, 9, 1, 12, 0, 0));
    h.server.rest.rateLimit(1, { 'ratelimit-reset': String(Date.UTC(2024, 9, 1, 12, 0, 30) / 1000) });
    const err = await expectTypedError(h.driver.compute.listNodes(), RateLimitedError);
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.message).toContain('rate_limit_exceeded');
  });

  it('answers 401 with AuthenticationError without the token, 404 with NotFoundError, 423 locked with ConflictError', async () => {
    await expectTypedError(h.driver.compute.rebootNode!('12345'), NotFoundError);
    const [first, second] = await Promise.allSettled([h.driver.compute.rebootNode!('42918831'), h.driver.compute.stopNode!('42918831')]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && second.reason).toBeInstanceOf(ConflictError);
    await h.close();
    h = await harness({ account: { credentials: { token: 'hcloud-wrong-token-0000111122223333' } } });
    const err = await expectTypedError(h.driver.compute.listNodes(), AuthenticationError);
    expect(err.message).toContain('unable to authenticate');
    expect(`${err.message} ${err.stack}`).not.toContain('hcloud-wrong-token-0000111122223333');
  });

  it('reads HCLOUD_TOKEN when the account has no token, and names it when neither is there', async () => {
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: { HCLOUD_TOKEN: HETZNER_TEST_TOKEN } } });
    expect(await h.driver.compute.listNodes()).toHaveLength(3);
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: {} } });
    expect((await expectTypedError(h.driver.compute.listNodes(), AuthenticationError)).message).toContain('HCLOUD_TOKEN');
  });
});

describe('hetzner-lb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('maps balancers and their targets: servers, IPs and label selectors on the destination port', async () => {
    const [web, db] = await h.driver.lb.listBalancers();
    expect(web).toMatchObject({ id: '2087213', name: 'web-lb', state: 'running', ip: '49.13.10.12', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', extra: { location: 'fsn1', loadBalancerType: 'lb11' } });
    expect(db).toMatchObject({ port: 5432, protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS' });
    expect(await h.driver.lb.listMembers('2087213')).toEqual([
      { id: '42918831', ip: null, port: 8080, nodeId: '42918831', extra: { type: 'server', usePrivateIp: false, health: [{ listenPort: 80, status: 'healthy' }] } },
      { id: '203.0.113.40', ip: '203.0.113.40', port: 8080, nodeId: null, extra: { type: 'ip', health: [{ listenPort: 80, status: 'unhealthy' }] } },
      { id: 'label_selector=role=web', ip: null, port: 8080, nodeId: null, extra: { type: 'label_selector', selector: 'role=web' } },
    ]);
  });

  it('creates with a service and IP targets in the account location, waiting for the action', async () => {
    const lb = await h.driver.lb.createBalancer({ name: 'api', port: 443, protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS', members: [{ ip: '203.0.113.9', port: 8443 }] });
    expect(lb).toMatchObject({ name: 'api', port: 443, protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS', extra: { location: 'fsn1' } });
    expect(h.server.posted.at(-1)!.body).toEqual({
      name: 'api', load_balancer_type: 'lb11', algorithm: { type: 'least_connections' }, location: 'fsn1',
      services: [{ protocol: 'tcp', listen_port: 443, destination_port: 8443, proxyprotocol: false }], targets: [{ type: 'ip', ip: { ip: '203.0.113.9' } }], public_interface: true,
    });
    await expectTypedError(h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.certificateIds');
  });

  it('attaches and detaches IP and server targets on the destination port only', async () => {
    const member = await h.driver.lb.attachMember('2087213', { ip: '203.0.113.41', port: 8080 });
    expect(member).toMatchObject({ id: '203.0.113.41', ip: '203.0.113.41', port: 8080, nodeId: null });
    await expectTypedError(h.driver.lb.attachMember('2087213', { ip: '203.0.113.42', port: 9000 }), InvalidInputError, 'member.port');
    await h.driver.lb.detachMember('2087213', '203.0.113.41');
    await h.driver.lb.detachMember('2087213', 'label_selector=role=web');
    expect((await h.driver.lb.listMembers('2087213')).map((m) => m.id)).toEqual(['42918831', '203.0.113.40']);
    expect(h.server.posted.filter((p) => p.path.startsWith('load_balancers/actions/')).map((p) => [p.path, p.body])).toEqual([
      ['load_balancers/actions/add_target', { type: 'ip', ip: { ip: '203.0.113.41' } }],
      ['load_balancers/actions/remove_target', { type: 'ip', ip: { ip: '203.0.113.41' } }],
      ['load_balancers/actions/remove_target', { type: 'label_selector', label_selector: { selector: 'role=web' } }],
    ]);
  });

  it('updates name, algorithm and port (a new service, then the old one dropped)', async () => {
    const updated = await h.driver.lb.updateBalancer!('2087213', { name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS', port: 8000 });
    expect(updated).toMatchObject({ name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS', port: 8000, protocol: 'http' });
    expect(h.server.posted.map((p) => p.path)).toEqual(['load_balancers/put', 'load_balancers/actions/change_algorithm', 'load_balancers/actions/add_service', 'load_balancers/actions/delete_service']);
    expect((h.server.balancers.get('2087213')!.services as unknown[]).length).toBe(1);
  });

  it('maps a delete-protected balancer (403 protected) to ConflictError, without the token', async () => {
    const err = await expectTypedError(h.driver.lb.destroyBalancer('2087388'), ConflictError);
    expect(err.message).toContain('delete protected');
    expect(err.message).not.toContain(HETZNER_TEST_TOKEN);
  });
});

describe('hetzner: states, accounts and registry', () => {
  it('maps every server status', () => {
    expect(Object.keys(NODE_STATE).sort()).toEqual(['deleting', 'initializing', 'migrating', 'off', 'rebuilding', 'running', 'starting', 'stopping', 'unknown']);
    expect(NODE_STATE.off).toBe('stopped');
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'h', driver: 'hetzner', regions: [], credentials: { token: 't', password: 'pw-secret' }, options: { region: 'secret-fsn' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateHetznerAccount(account, {});
    expect(problems).toEqual([expect.stringContaining('credentials.password'), expect.stringContaining('options.region')]);
    expect(problems.join()).not.toMatch(/secret/);
    expect(validateHetznerAccount({ ...account, credentials: {}, options: {} }, {})).toEqual(['credentials.token is required (or set HCLOUD_TOKEN)']);
    expect(validateHetznerLbAccount({ ...account, credentials: { token: 't' }, options: { location: 'fsn1', loadBalancerType: 'lb21' } }, {})).toEqual([]);
  });

  it('registers both drivers without regions', async () => {
    expect(await loadProvider('hetzner')).toMatchObject({ name: 'hetzner', services: ['COMPUTE'], regional: false });
    expect(await loadProvider('hetzner-lb')).toMatchObject({ name: 'hetzner-lb', services: ['LOADBALANCER'], regional: false });
  });
});
