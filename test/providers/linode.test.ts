import { describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidInputError, NotFoundError, ProviderError, RateLimitedError } from '../../src/providers/errors.ts';
import { NODE_STATE, createLinodeInstance, createLinodeLbInstance, generateRootPassword, validateLinodeAccount, validateLinodeLbAccount } from '../../src/providers/linode/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { AccountConfig } from '../../src/providers/types.ts';
import { testComputeDriver } from '../conformance/compute.ts';
import { expectTypedError } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { conformanceTarget, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { LINODE_TEST_TOKEN, startLinodeServer, type LinodeTestServer } from '../helpers/linode-server.ts';
import { REST_COMPUTE_CAPABILITIES, REST_WAIT, restPairHarness, type RestCloud, type RestHarnessOptions, type RestPair } from '../helpers/rest-cloud.ts';

const CLOUD: RestCloud = { driver: 'linode', token: LINODE_TEST_TOKEN, options: { region: 'us-east' }, compute: createLinodeInstance, lb: createLinodeLbInstance };
type Harness = DriverHarness<LinodeTestServer, RestPair>;
const harness = async (opts: RestHarnessOptions = {}): Promise<Harness> => restPairHarness(await startLinodeServer(), CLOUD, opts);

let conformanceServer: LinodeTestServer | undefined;
let conformanceLogs: unknown[] = [];
testComputeDriver({
  name: 'linode',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    conformanceLogs = h.ctx.logs;
    return { driver: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: REST_COMPUTE_CAPABILITIES,
  missingNodeId: '999999999',
  missingImageId: 'linode/none',
  secrets: [LINODE_TEST_TOKEN],
  ...REST_WAIT,
});

testLoadBalancerDriver({
  name: 'linode-lb',
  async create() {
    const h = await harness();
    return { driver: h.driver.lb, compute: h.driver.compute, cleanup: conformanceTarget(h).cleanup };
  },
  capabilities: ['updateBalancer', 'attachNode'],
  memberIps: ['192.168.130.11', '192.168.130.12'],
  missingBalancerId: '999999',
  secrets: [LINODE_TEST_TOKEN],
  ...REST_WAIT,
});

describe('linode: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the bearer token on every request and a fresh root password nowhere else', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(10);
    expect(reqs.every((r) => r.headers.authorization === `Bearer ${LINODE_TEST_TOKEN}`)).toBe(true);
    const creates = conformanceServer!.posted.filter((p) => p.path === 'linode/instances');
    expect(creates).toHaveLength(1);
    const rootPass = creates[0]!.body.root_pass as string;
    expect(rootPass.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(conformanceLogs)).not.toContain(rootPass);
    expect(conformanceServer!.posted.filter((p) => /\/(reboot|boot|shutdown)$/.test(p.path)).map((p) => p.path)).toEqual([
      'linode/instances/reboot', 'linode/instances/shutdown', 'linode/instances/boot',
    ]);
  });

  it('maps Linodes: public and private IPv4 split, IPv6 without prefix, type, image, region, key:value tags', async () => {
    const nodes = await h.driver.compute.listNodes();
    expect(nodes.find((n) => n.name === 'web-1')).toMatchObject({
      id: '61233410', state: 'running', publicIps: ['45.79.12.34', '2600:3c03::f03c:94ff:fe12:3401'], privateIps: ['192.168.139.20'],
      sizeId: 'g6-standard-1', imageId: 'linode/ubuntu24.04', locationId: 'us-east', tags: { env: 'prod', web: '' },
    });
    expect(nodes.find((n) => n.name === 'web-1')!.createdAt?.toISOString()).toBe('2024-06-03T10:21:08.000Z');
    expect(nodes.find((n) => n.name === 'db-1')).toMatchObject({ state: 'stopped', tags: { env: 'prod', role: 'db' } });
  });

  it('lists every page with one call per page (page_size at least 25), never one per item', async () => {
    await h.close();
    h = await harness({ deps: { pageSize: 2 } });
    expect(await h.driver.compute.listImages()).toHaveLength(29);
    const gets = h.server.requests.filter((r) => r.path === '/v4/images');
    expect(gets.map((r) => [r.query.get('page'), r.query.get('page_size')])).toEqual([['1', '25'], ['2', '25']]);
    expect(h.ctx.totalCalls()).toBe(2);
  });

  it('maps types (disk from MB, hourly price, network_out as bandwidth), regions (ISO countries) and image owners', async () => {
    expect((await h.driver.compute.listSizes()).find((s) => s.id === 'g6-standard-2')).toMatchObject({ ram: 4096, disk: 80, price: 0.036, bandwidth: 4000, extra: { vcpus: 2, priceMonthly: 24 } });
    const locations = await h.driver.compute.listLocations();
    expect(locations.find((l) => l.id === 'eu-west')).toMatchObject({ name: 'London, UK', country: 'GB' });
    expect((await h.driver.compute.listImages({ owner: 'self' })).map((i) => i.id)).toEqual(['private/25517091', 'private/25611223']);
    expect((await h.driver.compute.getImages!(['linode/debian12', 'nope'])).map((i) => i?.name ?? null)).toEqual(['Debian 12', null]);
  });

  it('creates a Linode with a generated root password, a public key, base64 user data and string tags; the password is never returned', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq8ccyKoPHOfsdDSRBcBfEqGphNqWFvWbk0Kh0Jq6Hd ops@example';
    const node = await h.driver.compute.createNode({ name: 'api-7', sizeId: 'g6-nanode-1', imageId: 'linode/debian12', locationId: 'eu-central', sshKey: key, userData: '#cloud-config\n', tags: { env: 'staging' } });
    const body = h.server.posted.at(-1)!.body;
    expect(body).toEqual({
      label: 'api-7', type: 'g6-nanode-1', region: 'eu-central', image: 'linode/debian12', root_pass: expect.any(String), booted: true,
      authorized_keys: [key], metadata: { user_data: Buffer.from('#cloud-config\n').toString('base64') }, tags: ['env:staging'],
    });
    expect(node).toMatchObject({ name: 'api-7', state: 'pending', tags: { env: 'staging' } });
    expect(JSON.stringify(node)).not.toContain(body.root_pass as string);
    expect(generateRootPassword()).not.toBe(generateRootPassword());
  });

  it('scrubs the root password from a failed create and names the upstream field', async () => {
    h.server.rest.echoRequestsInErrors();
    const err = await expectTypedError(h.driver.compute.createNode({ name: 'api-8', sizeId: 'g6-huge', imageId: 'linode/debian12', locationId: 'us-east' }), ProviderError);
    expect(err.status).toBe(400);
    expect(err.message).toContain('A valid plan type by that ID was not found');
    expect(err.message).toContain('"root_pass":"[REDACTED]"');
    const rootPass = h.server.posted.at(-1)!.body.root_pass as string;
    expect(`${err.message} ${err.stack}`).not.toContain(rootPass);
  });

  it('rejects bad create input naming the field, before any call', async () => {
    const base = { name: 'api-9', sizeId: 'g6-nanode-1', imageId: 'linode/debian12', locationId: 'us-east' };
    await expectTypedError(h.driver.compute.createNode({ ...base, name: 'a--b' }), InvalidInputError, 'name');
    await expectTypedError(h.driver.compute.createNode({ ...base, keyName: 'deploy' }), InvalidInputError, 'keyName');
    await expectTypedError(h.driver.compute.createNode({ ...base, tags: { a: '' } }), InvalidInputError, 'tags');
    await expectTypedError(h.driver.compute.createNode({ ...base, locationId: undefined }), InvalidInputError, 'locationId');
    await expectTypedError(h.driver.compute.destroyNode('web-1'), InvalidInputError, 'id');
    expect(h.server.requests).toHaveLength(0);
  });

  it('retries a 429 after X-RateLimit-Reset, with the delay asked for', async () => {
    const sleeps: number[] = [];
    await h.close();
    h = await harness({ deps: { retry: { maxDelayMs: 10_000 }, sleep: async (ms) => void sleeps.push(ms) } });
    const at = Date.UTC(2024, 9, 1, 12, 0, 0);
    h.ctx.clock.set(at);
    h.server.rest.rateLimit(1, { 'x-ratelimit-limit': '800', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(at / 1000 + 9) });
    expect(await h.driver.compute.listNodes()).toHaveLength(3);
    expect(sleeps).toEqual([9000]);
  });

  it('maps a lasting 429 to RateLimitedError with the reason and retryAfterMs', async () => {
    await h.close();
    h = await harness({ deps: { retry: { retries: 0 } } });
    h.server.rest.rateLimit(1, { 'retry-after': '12' });
    const err = await expectTypedError(h.driver.compute.listSizes(), RateLimitedError);
    expect(err.retryAfterMs).toBe(12_000);
    expect(err.message).toContain('Too many requests');
  });

  it('answers 401 with AuthenticationError (reason, no token) and 404 with NotFoundError; reads LINODE_TOKEN', async () => {
    await expectTypedError(h.driver.compute.rebootNode!('123'), NotFoundError);
    await h.close();
    h = await harness({ account: { credentials: { token: 'linode-wrong-token-99887766554433' } } });
    const err = await expectTypedError(h.driver.compute.listNodes(), AuthenticationError);
    expect(err.message).toContain('Invalid Token');
    expect(`${err.message} ${err.stack}`).not.toContain('linode-wrong-token-99887766554433');
    await h.close();
    h = await harness({ account: { credentials: {} }, deps: { env: { LINODE_TOKEN: LINODE_TEST_TOKEN } } });
    expect(await h.driver.compute.listNodes()).toHaveLength(3);
  });
});

describe('linode-lb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('lists NodeBalancers with one call per page (no configs: port, protocol and algorithm unknown) and gets one with its first config', async () => {
    const listed = await h.driver.lb.listBalancers();
    expect(listed.map((b) => [b.id, b.name, b.ip, b.port])).toEqual([['741205', 'web-lb', '45.79.200.10', null], ['741388', 'db-tcp', '172.104.200.99', null]]);
    expect(h.ctx.totalCalls()).toBe(1);
    expect(await h.driver.lb.getBalancer('741388')).toMatchObject({ port: 5432, protocol: 'tcp', algorithm: 'LEAST_CONNECTIONS', state: 'running', extra: { configId: '119002', region: 'eu-central' } });
  });

  it('lists config nodes as members with config-qualified ids', async () => {
    expect(await h.driver.lb.listMembers('741205')).toEqual([
      { id: '118801:5421001', ip: '192.168.139.20', port: 8080, nodeId: null, extra: { label: 'web-1', status: 'UP', mode: 'accept', weight: 100, configId: '118801' } },
      { id: '118801:5421002', ip: '192.168.139.21', port: 8080, nodeId: null, extra: { label: 'web-2', status: 'UP', mode: 'drain', weight: 50, configId: '118801' } },
    ]);
  });

  it('creates with one config and its nodes in the account region', async () => {
    const lb = await h.driver.lb.createBalancer({ name: 'api_lb', port: 443, protocol: 'tcp', algorithm: 'SOURCE_IP', members: [{ ip: '192.168.140.5', port: 8443 }] });
    expect(lb).toMatchObject({ name: 'api_lb', port: 443, protocol: 'tcp', algorithm: 'SOURCE_IP' });
    expect(h.server.posted.at(-1)!.body).toEqual({
      label: 'api_lb', region: 'us-east',
      configs: [{ port: 443, protocol: 'tcp', algorithm: 'source', nodes: [{ address: '192.168.140.5:8443', label: 'node-192-168-140-5-8443', weight: 100, mode: 'accept' }] }],
    });
    await expectTypedError(h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.sslCert');
  });

  it('scrubs the TLS private key from a failed https create', async () => {
    h.server.rest.echoRequestsInErrors();
    const sslKey = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';
    const err = await expectTypedError(
      h.driver.lb.createBalancer({ name: 'tls', port: 443, protocol: 'https', algorithm: 'ROUND_ROBIN', members: [], ex: { region: 'mars-1', sslCert: 'CERT', sslKey } }),
      ProviderError,
    );
    expect(err.message).toContain('region is not valid');
    expect(err.message).toContain('"ssl_cert":"CERT"');
    expect(`${err.message} ${err.stack}`).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7');
  });

  it('refuses public member addresses upstream and detaches by config-qualified id', async () => {
    const err = await expectTypedError(h.driver.lb.attachMember('741205', { ip: '45.79.12.34', port: 8080 }), ProviderError);
    expect(err.message).toContain('address: Must be a private IPv4 address');
    await h.driver.lb.detachMember('741205', '118801:5421002');
    expect((await h.driver.lb.listMembers('741205')).map((m) => m.id)).toEqual(['118801:5421001']);
    await expectTypedError(h.driver.lb.detachMember('741205', '5421001'), InvalidInputError, 'memberId');
  });

  it('updates the label and the first config', async () => {
    const updated = await h.driver.lb.updateBalancer!('741205', { name: 'web-lb-2', port: 8000, algorithm: 'LEAST_CONNECTIONS' });
    expect(updated).toMatchObject({ name: 'web-lb-2', port: 8000, protocol: 'http', algorithm: 'LEAST_CONNECTIONS' });
    expect(h.server.posted.map((p) => [p.path, p.body])).toEqual([
      ['nodebalancers/put', { label: 'web-lb-2' }],
      ['nodebalancers/configs/put', { port: 8000, algorithm: 'leastconn' }],
    ]);
  });
});

describe('linode: states, accounts and registry', () => {
  it('maps every status', () => {
    expect(NODE_STATE).toMatchObject({ running: 'running', offline: 'stopped', provisioning: 'pending', shutting_down: 'stopping', booting: 'starting', rebooting: 'rebooting' });
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'l', driver: 'linode', regions: [], credentials: { token: '', key: 'k-secret' }, options: { zone: 'z-secret' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateLinodeAccount(account, {});
    expect(problems).toEqual([expect.stringContaining('credentials.key'), 'credentials.token must not be empty', expect.stringContaining('options.zone')]);
    expect(problems.join()).not.toMatch(/secret/);
    expect(validateLinodeAccount({ ...account, credentials: {}, options: {} }, { LINODE_TOKEN: 't' })).toEqual([]);
    expect(validateLinodeLbAccount({ ...account, credentials: { token: 't' }, options: { region: 'us-east' } }, {})).toEqual([]);
  });

  it('registers both drivers without regions', async () => {
    expect(await loadProvider('linode')).toMatchObject({ name: 'linode', services: ['COMPUTE'], regional: false });
    expect(await loadProvider('linode-lb')).toMatchObject({ name: 'linode-lb', services: ['LOADBALANCER'], regional: false });
  });
});
