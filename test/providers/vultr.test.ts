import { describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError, NotFoundError, ProviderError, RateLimitedError } from '../../src/providers/errors.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig } from '../../src/providers/types.ts';
import { BALANCER_STATE, createVultrInstance, createVultrLbInstance, toNodeState, validateVultrAccount, validateVultrLbAccount } from '../../src/providers/vultr/index.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { REST_COMPUTE_CAPABILITIES, REST_WAIT, restPairHarness, type RestCloud, type RestHarnessOptions, type RestPair } from '../helpers/rest-cloud.ts';
import { VULTR_DEFAULT_PASSWORD, VULTR_TEST_TOKEN, startVultrServer, type VultrTestServer } from '../helpers/vultr-server.ts';

const SECRETS = [VULTR_TEST_TOKEN, VULTR_DEFAULT_PASSWORD];
const WEB_1 = 'cb676a46-66fd-4dfb-b839-443f2e6c0b60';
const WEB_2 = 'a3c0a6e0-4e7d-4b8b-9d5e-7f2b0c1d2e30';
const WEB_LB = '1317575f-0d6d-4d33-a2a0-5e1e0b4c6f1a';

const CLOUD: RestCloud = { driver: 'vultr', token: VULTR_TEST_TOKEN, options: { region: 'ewr' }, compute: createVultrInstance, lb: createVultrLbInstance };
type Harness = DriverHarness<VultrTestServer, RestPair>;
const harness = async (opts: RestHarnessOptions = {}): Promise<Harness> => restPairHarness(await startVultrServer(), CLOUD, opts);

let conformanceServer: VultrTestServer | undefined;
testComputeDriver({
  name: 'vultr',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return { driver: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: REST_COMPUTE_CAPABILITIES,
  missingNodeId: '00000000-0000-4000-8000-000000000000',
  missingImageId: '999999',
  secrets: SECRETS,
  ...REST_WAIT,
});

testLoadBalancerDriver({
  name: 'vultr-lb',
  async create() {
    const h = await harness();
    return { driver: h.driver.lb, compute: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: ['updateBalancer', 'attachNode'],
  memberMode: 'instance',
  createInput: (base, nodes) => ({ ...base, ex: { instanceIds: nodes.map((n) => n.id), backendPort: 8080 } }),
  missingBalancerId: '00000000-0000-4000-8000-00000000beef',
  secrets: SECRETS,
  ...REST_WAIT,
});

describe('vultr: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the bearer token on every request', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(10);
    expect(reqs.every((r) => r.headers.authorization === `Bearer ${VULTR_TEST_TOKEN}`)).toBe(true);
    expect(conformanceServer!.posted.filter((p) => /\/(reboot|start|halt)$/.test(p.path)).map((p) => p.path)).toEqual(['instances/reboot', 'instances/halt', 'instances/start']);
  });

  it('maps instances: main and v6 addresses, internal address, plan, OS, region, state from status and power, tags', async () => {
    const nodes = await h.driver.compute.listNodes();
    expect(nodes.find((n) => n.id === WEB_1)).toMatchObject({
      name: 'web-1', state: 'running', publicIps: ['45.77.150.10', '2001:19f0:5:6a6::10'], privateIps: ['10.1.96.3'],
      sizeId: 'vc2-1c-2gb', imageId: '2284', locationId: 'ewr', tags: { env: 'prod', web: '' },
    });
    expect(nodes.find((n) => n.name === 'db-1')).toMatchObject({ state: 'stopped', privateIps: [] });
    expect(toNodeState({ status: 'active', power_status: 'running', server_status: 'installingbooting' })).toBe('starting');
    expect(toNodeState({ status: 'pending' })).toBe('pending');
  });

  it('follows the cursor with one call per page, never one per item', async () => {
    await h.close();
    h = await harness({ deps: { pageSize: 4 } });
    expect(await h.driver.compute.listImages()).toHaveLength(9);
    const gets = h.server.requests.filter((r) => r.path === '/v2/os');
    expect(gets.map((r) => [r.query.get('per_page'), r.query.get('cursor') && Buffer.from(r.query.get('cursor')!, 'base64').toString()])).toEqual([
      ['4', null], ['4', 'next__4'], ['4', 'next__8'],
    ]);
    expect(h.ctx.totalCalls()).toBe(3);
  });

  it('prices plans by the hour: the monthly cost over 672 hours (730 for GPU plans)', async () => {
    const sizes = await h.driver.compute.listSizes();
    expect(sizes.find((s) => s.id === 'vc2-1c-1gb')).toMatchObject({ ram: 1024, disk: 25, price: 0.007440, extra: { monthlyCost: 5, vcpus: 1 } });
    expect(sizes.find((s) => s.id === 'vcg-a16-2c-16g-4vram')!.price).toBe(0.2);
    expect((await h.driver.compute.listLocations()).find((l) => l.id === 'lhr')).toMatchObject({ name: 'London', country: 'GB' });
  });

  it('creates an instance from an OS id with base64 user data and string tags; the default password is never returned', async () => {
    const node = await h.driver.compute.createNode({ name: 'api-7', sizeId: 'vc2-1c-1gb', imageId: '2136', locationId: 'fra', keyName: '541b4960-f7fd-4c45-a1a0-6b2b3cb5d0f1', userData: '#cloud-config\n', tags: { env: 'staging' } });
    expect(h.server.posted.at(-1)!.body).toEqual({
      region: 'fra', plan: 'vc2-1c-1gb', label: 'api-7', os_id: 2136, sshkey_id: ['541b4960-f7fd-4c45-a1a0-6b2b3cb5d0f1'],
      user_data: Buffer.from('#cloud-config\n').toString('base64'), tags: ['env:staging'],
    });
    expect(node).toMatchObject({ name: 'api-7', state: 'pending', publicIps: [], tags: { env: 'staging' } });
    expect(JSON.stringify(node)).not.toContain(VULTR_DEFAULT_PASSWORD);
    expect(JSON.stringify(h.ctx.logs)).not.toContain(VULTR_DEFAULT_PASSWORD);
  });

  it('rejects bad create input naming the field, before any call', async () => {
    const base = { name: 'x', sizeId: 'vc2-1c-1gb', imageId: '2136', locationId: 'ewr' };
    await expectTypedError(h.driver.compute.createNode({ ...base, imageId: 'debian' }), InvalidInputError, 'imageId');
    await expectTypedError(h.driver.compute.createNode({ ...base, sshKey: 'ssh-ed25519 AAAA' }), InvalidInputError, 'sshKey');
    await expectTypedError(h.driver.compute.createNode({ ...base, keyName: 'deploy' }), InvalidInputError, 'keyName');
    await expectTypedError(h.driver.compute.createNode({ ...base, ex: { ddos: true } }), InvalidInputError, 'ex.ddos');
    expect(h.server.requests).toHaveLength(0);
  });

  it('retries a 429 after Retry-After, with the delay asked for', async () => {
    const sleeps: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { maxDelayMs: 10_000 }, sleep: async (ms) => void sleeps.push(ms) } });
    h.server.rest.rateLimit(2, { 'retry-after': '3' });
    expect(await h.driver.compute.listLocations()).toHaveLength(6);
    expect(sleeps).toEqual([3000, 3000]);
    expect(h.server.requests.filter((r) => r.path === '/v2/regions')).toHaveLength(3);
  });

  it('maps a lasting 429 to RateLimitedError and 401 to AuthenticationError, neither carrying the key', async () => {
    await h.close();
    h = await harness({ deps: { retry: { retries: 0 } } });
    h.server.rest.rateLimit(1, { 'retry-after': '1' });
    const limited = await expectTypedError(h.driver.compute.listSizes(), RateLimitedError);
    expect(limited.retryAfterMs).toBe(1000);
    expect(limited.message).toContain('Rate limit reached');
    await h.close();
    h = await harness({ account: { credentials: { token: 'VULTRWRONGKEY00000000000000000000' } } });
    const err = await expectTypedError(h.driver.compute.listNodes(), AuthenticationError);
    expect(err.message).toContain('Invalid API token');
    expect(`${err.message} ${err.stack}`).not.toContain('VULTRWRONGKEY00000000000000000000');
  });

  it('answers NotFoundError for a missing instance and reads VULTR_API_KEY', async () => {
    await expectTypedError(h.driver.compute.stopNode!('00000000-0000-4000-8000-000000000001'), NotFoundError);
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: { VULTR_API_KEY: VULTR_TEST_TOKEN } } });
    expect(await h.driver.compute.listNodes()).toHaveLength(3);
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: {} } });
    expect((await expectTypedError(h.driver.compute.listNodes(), AuthenticationError)).message).toContain('VULTR_API_KEY');
  });
});

describe('vultr-lb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('maps balancers: first forwarding rule, algorithm, status, instances as members on the backend port', async () => {
    const [web, db] = await h.driver.lb.listBalancers();
    expect(web).toMatchObject({ id: WEB_LB, name: 'web-lb', state: 'running', ip: '144.202.10.20', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', extra: { backendPort: 8080, region: 'ewr' } });
    expect(db).toMatchObject({ state: 'pending', ip: null, protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS' });
    expect(await h.driver.lb.listMembers(WEB_LB)).toEqual([
      { id: WEB_1, ip: null, port: 8080, nodeId: WEB_1, extra: {} },
      { id: WEB_2, ip: null, port: 8080, nodeId: WEB_2, extra: {} },
    ]);
  });

  it('creates with members given by address (resolved to instances) in the account region', async () => {
    const lb = await h.driver.lb.createBalancer({ name: 'api', port: 80, protocol: 'http', algorithm: 'LEAST_CONNECTIONS', members: [{ ip: '10.1.96.4', port: 9000 }] });
    expect(lb).toMatchObject({ name: 'api', state: 'pending', port: 80, algorithm: 'LEAST_CONNECTIONS' });
    expect(h.server.posted.at(-1)!.body).toEqual({
      region: 'ewr', label: 'api', balancing_algorithm: 'leastconn',
      forwarding_rules: [{ frontend_protocol: 'http', frontend_port: 80, backend_protocol: 'http', backend_port: 9000 }], instances: [WEB_2],
    });
    await expectTypedError(h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.certificate');
  });

  it('an https create carries the private key, which a failure never shows', async () => {
    h.server.rest.echoRequestsInErrors();
    const privateKey = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDV\n-----END PRIVATE KEY-----';
    const err = await expectTypedError(
      h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [], ex: { region: 'mars', certificate: 'CERT', privateKey } }),
      ProviderError,
    );
    expect(err.message).toContain('Invalid region');
    expect(err.message).toContain('"certificate":"CERT"');
    expect(`${err.message} ${err.stack}`).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDV');
  });

  it('attaches by address on the backend port, detaches by instance id, with whole-list PATCHes', async () => {
    await h.driver.lb.detachMember(WEB_LB, WEB_2);
    const member = await h.driver.lb.attachMember(WEB_LB, { ip: '45.77.150.11', port: 8080 });
    expect(member).toEqual({ id: WEB_2, ip: null, port: 8080, nodeId: WEB_2, extra: {} });
    expect(h.server.posted.map((p) => p.body)).toEqual([{ instances: [WEB_1] }, { instances: [WEB_1, WEB_2] }]);
    await expectTypedError(h.driver.lb.attachMember(WEB_LB, { ip: '45.77.150.11', port: 9000 }), InvalidInputError, 'member.port');
    await expectTypedError(h.driver.lb.attachMember(WEB_LB, { ip: '192.0.2.1', port: 8080 }), InvalidInputError, 'member.ip');
  });

  it('updates label, algorithm and the first rule in one PATCH', async () => {
    const updated = await h.driver.lb.updateBalancer!(WEB_LB, { name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS', port: 8000 });
    expect(updated).toMatchObject({ name: 'web-lb-2', algorithm: 'LEAST_CONNECTIONS', port: 8000, protocol: 'http' });
    expect(h.server.posted.map((p) => p.body)).toEqual([
      { label: 'web-lb-2', balancing_algorithm: 'leastconn', forwarding_rules: [{ frontend_protocol: 'http', frontend_port: 8000, backend_protocol: 'http', backend_port: 8080 }] },
    ]);
  });
});

describe('vultr: states, accounts and registry', () => {
  it('maps balancer states', () => {
    expect(BALANCER_STATE).toEqual({ pending: 'pending', active: 'running' });
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'v', driver: 'vultr', regions: [], credentials: { apiKey: 'k-secret' }, options: { plan: 'p-secret' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateVultrAccount(account, {});
    expect(problems).toEqual([expect.stringContaining('credentials.apiKey'), 'credentials.token is required (or set VULTR_API_KEY)', expect.stringContaining('options.plan')]);
    expect(problems.join()).not.toMatch(/secret/);
    expect(validateVultrLbAccount({ ...account, credentials: { token: 't' }, options: { region: 'ewr' } }, {})).toEqual([]);
  });

  it('registers both drivers without regions', async () => {
    expect(await loadProvider('vultr')).toMatchObject({ name: 'vultr', services: ['COMPUTE'], regional: false });
    expect(await loadProvider('vultr-lb')).toMatchObject({ name: 'vultr-lb', services: ['LOADBALANCER'], regional: false });
  });
});
