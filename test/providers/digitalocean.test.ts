import { describe, expect, it } from 'vitest';
import {
  BALANCER_STATE,
  NODE_STATE,
  createDigitalOceanInstance,
  createDigitalOceanLbInstance,
  validateDigitalOceanAccount,
  validateDigitalOceanLbAccount,
} from '../../src/providers/digitalocean/index.ts';
import { AuthenticationError, InvalidInputError, NotFoundError, ProviderError, RateLimitedError } from '../../src/providers/errors.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig } from '../../src/providers/types.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { DIGITALOCEAN_TEST_TOKEN, startDigitalOceanServer, type DigitalOceanTestServer } from '../helpers/digitalocean-server.ts';
import { REST_COMPUTE_CAPABILITIES, REST_WAIT, restPairHarness, type RestCloud, type RestHarnessOptions, type RestPair } from '../helpers/rest-cloud.ts';

const CLOUD: RestCloud = { driver: 'digitalocean', token: DIGITALOCEAN_TEST_TOKEN, options: { region: 'nyc3' }, compute: createDigitalOceanInstance, lb: createDigitalOceanLbInstance };
type Harness = DriverHarness<DigitalOceanTestServer, RestPair>;
const harness = async (opts: RestHarnessOptions = {}): Promise<Harness> => restPairHarness(await startDigitalOceanServer(), CLOUD, opts);

let conformanceServer: DigitalOceanTestServer | undefined;
testComputeDriver({
  name: 'digitalocean',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    const target = conformanceTarget(h);
    return { driver: h.driver.compute, cleanup: target.cleanup };
  },
  capabilities: REST_COMPUTE_CAPABILITIES,
  missingNodeId: '999999999',
  missingImageId: '1',
  secrets: [DIGITALOCEAN_TEST_TOKEN],
  ...REST_WAIT,
});

testLoadBalancerDriver({
  name: 'digitalocean-lb',
  async create() {
    const h = await harness();
    const target = conformanceTarget(h);
    return { driver: h.driver.lb, compute: h.driver.compute, cleanup: target.cleanup };
  },
  capabilities: ['updateBalancer', 'attachNode'],
  memberMode: 'instance',
  createInput: (base, nodes) => ({ ...base, ex: { dropletIds: nodes.map((n) => n.id), targetPort: 8080 } }),
  missingBalancerId: '0b9a3f5e-0000-4000-8000-000000000000',
  secrets: [DIGITALOCEAN_TEST_TOKEN],
  ...REST_WAIT,
});

describe('digitalocean: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the bearer token on every request and waited for each droplet action', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(10);
    expect(reqs.every((r) => r.headers.authorization === `Bearer ${DIGITALOCEAN_TEST_TOKEN}`)).toBe(true);
    expect(conformanceServer!.posted.filter((p) => p.path === 'droplets/actions').map((p) => p.body.type)).toEqual(['reboot', 'power_off', 'power_on']);
  });

  it('maps droplets: public v4 and v6, private v4, size, image, region, key:value tags', async () => {
    const nodes = await h.driver.compute.listNodes();
    const web = nodes.find((n) => n.name === 'web-1')!;
    expect(web).toMatchObject({
      id: '421873564',
      state: 'running',
      publicIps: ['159.203.84.17', '2604:a880:800:14::1f:6000'],
      privateIps: ['10.116.0.2'],
      sizeId: 's-1vcpu-1gb',
      imageId: '158977235',
      locationId: 'nyc3',
      tags: { env: 'prod', web: '' },
    });
    expect(web.createdAt?.toISOString()).toBe('2024-06-03T10:21:08.000Z');
    expect(nodes.find((n) => n.name === 'db-1')).toMatchObject({ state: 'stopped', tags: { env: 'prod', role: 'db' } });
  });

  it('lists every page with one call per page, never one per item', async () => {
    await h.close();
    h = await harness({ deps: { pageSize: 3 } });
    expect(await h.driver.compute.listNodes()).toHaveLength(4);
    const gets = h.server.requests.filter((r) => r.path === '/v2/droplets');
    expect(gets.map((r) => [r.query.get('page'), r.query.get('per_page')])).toEqual([['1', '3'], ['2', '3']]);
    expect(h.ctx.calls.get('GET /droplets')).toBe(2);
    expect(h.ctx.totalCalls()).toBe(2);
  });

  it('lists distribution and private images, filters by owner and finds images by id or slug', async () => {
    const images = await h.driver.compute.listImages();
    expect(images.map((i) => i.extra.slug ?? i.name)).toEqual(['ubuntu-24-04-x64', 'debian-12-x64', 'rockylinux-9-x64', 'fedora-40-x64', 'web-golden-2024-08', 'db-backup-0901']);
    expect((await h.driver.compute.listImages({ owner: 'self' })).map((i) => i.id)).toEqual(['161204554', '162310018']);
    const got = await h.driver.compute.getImages!(['debian-12-x64', 'nope', '161204554']);
    expect(got.map((i) => i?.id ?? null)).toEqual(['155423712', null, '161204554']);
  });

  it('maps sizes with hourly prices and regions with countries', async () => {
    const size = (await h.driver.compute.listSizes()).find((s) => s.id === 's-2vcpu-4gb')!;
    expect(size).toMatchObject({ ram: 4096, disk: 80, price: 0.03571, bandwidth: null, extra: { vcpus: 2, priceMonthly: 24 } });
    const locations = await h.driver.compute.listLocations();
    expect(locations.find((l) => l.id === 'ams3')).toMatchObject({ name: 'Amsterdam 3', country: 'NL' });
    expect(locations.find((l) => l.id === 'syd1')?.extra.available).toBe(false);
  });

  it('creates a droplet from the input: slug or id image, tags as strings, key by fingerprint', async () => {
    const node = await h.driver.compute.createNode({
      name: 'api-7', sizeId: 's-1vcpu-1gb', imageId: '158977235', locationId: 'fra1', keyName: '3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa',
      userData: '#cloud-config\n', tags: { env: 'staging', api: '' }, ex: { ipv6: true },
    });
    expect(node).toMatchObject({ name: 'api-7', state: 'pending', locationId: 'fra1', tags: { env: 'staging', api: '' } });
    expect(h.server.posted.at(-1)!.body).toEqual({
      name: 'api-7', region: 'fra1', size: 's-1vcpu-1gb', image: 158977235, ssh_keys: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'],
      user_data: '#cloud-config\n', tags: ['env:staging', 'api'], ipv6: true,
    });
  });

  it('rejects bad create input naming the field, before any call', async () => {
    const base = { name: 'x', sizeId: 's-1vcpu-1gb', imageId: 'debian-12-x64', locationId: 'nyc3' };
    await expectTypedError(h.driver.compute.createNode({ ...base, locationId: undefined }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.compute.createNode({ ...base, name: 'not a hostname' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.compute.createNode({ ...base, sshKey: 'ssh-ed25519 AAAA' }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.compute.createNode({ ...base, tags: { 'bad tag': 'x' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.compute.createNode({ ...base, ex: { floating: true } }), InvalidInputError, 'ex.floating');
    expect(h.server.requests).toHaveLength(0);
  });

  it('waits for each droplet action, so back-to-back power changes are not refused as a pending event', async () => {
    await h.driver.compute.rebootNode!('421873565', { hard: true });
    await h.driver.compute.stopNode!('421873565');
    expect(h.server.posted.map((p) => p.body.type)).toEqual(['power_cycle', 'power_off']);
    expect(h.server.requests.filter((r) => r.path.startsWith('/v2/actions/')).length).toBeGreaterThan(0);
    expect(h.server.droplets.get('421873565')!.status).toBe('off');
  });

  it('retries a 429 after the ratelimit-reset epoch second, with the delay asked for', async () => {
    const sleeps: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { maxDelayMs: 10_000 }, sleep: async (ms) => void sleeps.push(ms) } });
    h.ctx.clock.set(Date.UTC(2024, 9, 1, 12, 0, 0));
    const reset = Math.floor(Date.UTC(2024, 9, 1, 12, 0, 0) / 1000) + 7;
    h.server.rest.rateLimit(1, { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) });
    expect(await h.driver.compute.listSizes()).toHaveLength(5);
    expect(sleeps).toEqual([7000]);
    expect(h.server.requests.filter((r) => r.path === '/v2/sizes')).toHaveLength(2);
  });

  it('maps a 429 that outlasts the retries to RateLimitedError with retryAfterMs, Retry-After winning over the reset header', async () => {
    const sleeps: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { retries: 1, maxDelayMs: 60_000 }, sleep: async (ms) => void sleeps.push(ms) } });
    h.server.rest.rateLimit(5, { 'retry-after': '2', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 50) });
    const err = await expectTypedError(h.driver.compute.listLocations(), RateLimitedError);
    expect(err.retryAfterMs).toBe(2000);
    expect(err.message).toContain('API Rate limit exceeded');
    expect(sleeps).toEqual([2000]);
  });

  it('answers 401 with AuthenticationError that never carries the token', async () => {
    await h.close();
    h = await harness({ account: { credentials: { token: 'dop_v1_wrongwrongwrong0000111122223333' } } });
    const err = await expectTypedError(h.driver.compute.listNodes(), AuthenticationError);
    expect(err.message).toContain('Unable to authenticate you');
    expect(err.message).not.toContain('dop_v1_wrongwrongwrong0000111122223333');
    expect(JSON.stringify(err)).not.toContain('dop_v1_wrong');
  });

  it('maps 404 and 422 without the token, and reads the token from DIGITALOCEAN_TOKEN when the account has none', async () => {
    const missing = await expectTypedError(h.driver.compute.stopNode!('777'), NotFoundError);
    expect(missing.message).toContain('could not be found');
    const refused = await expectTypedError(h.driver.compute.createNode({ name: 'x', sizeId: 'huge', imageId: 'debian-12-x64', locationId: 'nyc3' }), ProviderError);
    expect(refused.status).toBe(422);
    for (const e of [missing, refused]) expect(`${e.message} ${e.stack}`).not.toContain(DIGITALOCEAN_TEST_TOKEN);
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: { DIGITALOCEAN_TOKEN: DIGITALOCEAN_TEST_TOKEN } } });
    expect(await h.driver.compute.listNodes()).toHaveLength(4);
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: {} } });
    const none = await expectTypedError(h.driver.compute.listNodes(), AuthenticationError);
    expect(none.message).toContain('DIGITALOCEAN_TOKEN');
    expect(h.server.requests).toHaveLength(0);
  });
});

describe('digitalocean-lb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('maps balancers: first forwarding rule, algorithm, status, droplets as members on the target port', async () => {
    const [web, db] = await h.driver.lb.listBalancers();
    expect(web).toMatchObject({ name: 'web-lb', state: 'running', ip: '104.131.186.241', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' });
    expect(web!.extra).toMatchObject({ region: 'nyc3', targetPort: 8080, dropletIds: ['421873564', '421873565'] });
    expect(db).toMatchObject({ state: 'pending', protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS', extra: { tag: 'role:db' } });
    expect(await h.driver.lb.listMembers(web!.id)).toEqual([
      { id: '421873564', ip: null, port: 8080, nodeId: '421873564', extra: {} },
      { id: '421873565', ip: null, port: 8080, nodeId: '421873565', extra: {} },
    ]);
  });

  it('creates with members given by address (resolved to droplets in one listing) in the account region', async () => {
    const lb = await h.driver.lb.createBalancer({ name: 'api', port: 80, protocol: 'http', algorithm: 'LEAST_CONNECTIONS', members: [{ ip: '10.116.0.3', port: 9000 }] });
    expect(lb).toMatchObject({ name: 'api', state: 'pending', port: 80, algorithm: 'LEAST_CONNECTIONS' });
    expect(h.server.posted.at(-1)!.body).toEqual({
      name: 'api', region: 'nyc3', size_unit: 1, algorithm: 'least_connections',
      forwarding_rules: [{ entry_protocol: 'http', entry_port: 80, target_protocol: 'http', target_port: 9000 }], droplet_ids: [421873565],
    });
  });

  it('attaches a member by address on the target port and refuses another port or a stranger address', async () => {
    const id = '4de7ac8b-495b-4884-9a69-1050c6793cd6';
    await h.driver.lb.detachMember(id, '421873565');
    const member = await h.driver.lb.attachMember(id, { ip: '159.203.84.18', port: 8080 });
    expect(member).toEqual({ id: '421873565', ip: null, port: 8080, nodeId: '421873565', extra: {} });
    expect(h.server.balancers.get(id)!.droplet_ids).toEqual([421873564, 421873565]);
    await expectTypedError(h.driver.lb.attachMember(id, { ip: '159.203.84.18', port: 9090 }), InvalidInputError, 'member.port');
    await expectTypedError(h.driver.lb.attachMember(id, { ip: '192.0.2.77', port: 8080 }), InvalidInputError, 'member.ip');
    const web1 = (await h.driver.compute.listNodes())[0]!;
    await expectTypedError(h.driver.lb.attachNode!(id, { ...web1, id: 'web-1' }, 8080), InvalidInputError, 'node.id');
  });

  it('needs a certificate or passthrough for https and a region for new balancers', async () => {
    await expectTypedError(h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.certificateId');
    const tls = await h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [], ex: { tlsPassthrough: true, targetPort: 8443 } });
    expect(tls.protocol).toBe('https');
    expect(h.server.posted.at(-1)!.body.forwarding_rules).toEqual([{ entry_protocol: 'https', entry_port: 443, target_protocol: 'https', target_port: 8443, tls_passthrough: true }]);
    await h.close();
    h = await harness({ account: { options: {} } });
    await expectTypedError(h.driver.lb.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.region');
  });

  it('updates by sending the whole balancer back with the change', async () => {
    const updated = await h.driver.lb.updateBalancer!('4de7ac8b-495b-4884-9a69-1050c6793cd6', { name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS' });
    expect(updated).toMatchObject({ name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS', port: 80 });
    const body = h.server.posted.at(-1)!.body;
    expect(body).toMatchObject({ name: 'web-lb-2', region: 'nyc3', algorithm: 'least_connections', size_unit: 1, droplet_ids: [421873564, 421873565] });
    expect((body.forwarding_rules as unknown[]).length).toBe(2);
  });
});

describe('digitalocean: states, accounts and registry', () => {
  it('maps every state', () => {
    expect(NODE_STATE).toEqual({ new: 'pending', active: 'running', off: 'stopped', archive: 'terminated' });
    expect(BALANCER_STATE).toEqual({ new: 'pending', active: 'running', errored: 'error' });
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'd', driver: 'digitalocean', regions: [], credentials: { token: 'tok-secret-1', apiKey: 'k-secret-2' }, options: { zone: 'secret-3' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateDigitalOceanAccount(account, {});
    expect(problems).toEqual([expect.stringContaining('credentials.apiKey'), expect.stringContaining('options.zone')]);
    expect(problems.join()).not.toMatch(/secret/);
    expect(validateDigitalOceanAccount({ ...account, credentials: {}, options: {} }, {})).toEqual(['credentials.token is required (or set DIGITALOCEAN_TOKEN)']);
    expect(validateDigitalOceanAccount({ ...account, credentials: {}, options: {} }, { DIGITALOCEAN_TOKEN: 'x' })).toEqual([]);
    expect(validateDigitalOceanLbAccount({ ...account, credentials: { token: 't' }, options: { region: 'nyc3' } }, {})).toEqual([]);
    expect(validateDigitalOceanLbAccount({ ...account, credentials: { token: 't' }, options: { region: 3 } }, {})).toEqual(['options.region must be a non-empty string']);
  });

  it('registers both drivers without regions', async () => {
    const compute = await loadProvider('digitalocean');
    const lb = await loadProvider('digitalocean-lb');
    expect(compute).toMatchObject({ name: 'digitalocean', services: ['COMPUTE'], regional: false });
    expect(lb).toMatchObject({ name: 'digitalocean-lb', services: ['LOADBALANCER'], regional: false });
  });
});
