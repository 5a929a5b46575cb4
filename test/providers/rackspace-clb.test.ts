import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError } from '../../src/providers/errors.ts';
import { BALANCER_STATE, createClbInstance, parseClbError, validateClbAccount, type ClbDeps } from '../../src/providers/rackspace/clb/index.ts';
import type { AccountConfig, LoadBalancer, LoadBalancerDriver } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { OPENSTACK_TEST_TOKEN, startClbServer, type ClbServerOptions, type ClbTestServer } from '../helpers/openstack-server.ts';

const FAST: ClbDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) };

type Harness = DriverHarness<ClbTestServer, LoadBalancerDriver>;

async function harness(opts: { server?: ClbServerOptions; account?: Partial<AccountConfig>; deps?: ClbDeps } = {}): Promise<Harness> {
  const server = await startClbServer(opts.server);
  const ctx = testDriverContext(
    { driver: 'rackspace-clb', regions: ['DFW'], endpoint: server.endpoint, credentials: { token: OPENSTACK_TEST_TOKEN }, ...opts.account },
    { region: 'DFW' },
  );
  const instance = createClbInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.loadBalancer!);
}

let conformanceServer: ClbTestServer | undefined;
testLoadBalancerDriver({
  name: 'rackspace-clb',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: ['updateBalancer'],
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingBalancerId: '999999',
  secrets: [OPENSTACK_TEST_TOKEN],
});

describe('rackspace-clb: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the token on every request and never changed a pending balancer', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(15);
    expect(reqs.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
    expect(conformanceServer!.posted.map((p) => Object.keys(p.body)[0])).toEqual(['loadBalancer', 'nodes', 'loadBalancer']);
  });

  it('maps balancers: public IPv4 VIP, lower-case protocol, algorithm, status', async () => {
    const byName = Object.fromEntries((await h.driver.listBalancers()).map((b) => [b.name, b])) as Record<string, LoadBalancer>;
    expect(byName['web-dfw']).toMatchObject({ id: '71001', state: 'running', ip: '198.51.100.21', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN' });
    expect(byName['web-dfw']!.extra).toMatchObject({ nodeCount: 2, cluster: 'ztm-n13.dfw1.lbaas.rackspace.net', connectionLogging: true, createdAt: '2024-05-14T08:40:11Z' });
    expect(byName.mail).toMatchObject({ state: 'error', protocol: 'smtp', algorithm: 'RANDOM' });
    expect(byName['internal-db']).toMatchObject({ state: 'pending', ip: '10.183.252.30', protocol: 'mysql', algorithm: 'WEIGHTED_LEAST_CONNECTIONS' });
  });

  it('follows links rel=next to the end', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 2 } });
    expect((await h.driver.listBalancers()).map((b) => b.id)).toEqual(['71001', '71002', '71003']);
    expect(h.server.requests.map((r) => r.query.get('marker'))).toEqual([null, '71002']);
  });

  it('lists nodes as members', async () => {
    expect(await h.driver.listMembers('71001')).toEqual([
      { id: '410001', ip: '10.180.1.10', port: 8080, nodeId: null, extra: { condition: 'ENABLED', status: 'ONLINE', weight: 1, type: 'PRIMARY' } },
      { id: '410002', ip: '10.180.1.11', port: 8080, nodeId: null, extra: { condition: 'DRAINING', status: 'ONLINE', weight: 3, type: 'SECONDARY' } },
    ]);
  });

  it('lists the API protocols in lower case', async () => {
    const protocols = await h.driver.listProtocols();
    expect(protocols).toContain('http');
    expect(protocols).toContain('imapv4');
    expect(protocols).toHaveLength(18);
  });

  it('creates with a PUBLIC virtual IP, the API protocol name and ENABLED nodes', async () => {
    const lb = await h.driver.createBalancer({ name: 'imap', port: 143, protocol: 'imapv4', algorithm: 'WEIGHTED_ROUND_ROBIN', members: [{ ip: '10.180.3.4', port: 143 }] });
    expect(lb).toMatchObject({ name: 'imap', state: 'pending', protocol: 'imapv4', algorithm: 'WEIGHTED_ROUND_ROBIN', port: 143 });
    expect(h.server.posted.at(-1)!.body).toEqual({
      loadBalancer: { name: 'imap', port: 143, protocol: 'IMAPv4', algorithm: 'WEIGHTED_ROUND_ROBIN', virtualIps: [{ type: 'PUBLIC' }], nodes: [{ address: '10.180.3.4', port: 143, condition: 'ENABLED' }] },
    });
  });

  it('rejects SOURCE_IP and unknown protocols before creating anything', async () => {
    await expectTypedError(h.driver.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm: 'SOURCE_IP', members: [] }), InvalidInputError, 'algorithm');
    expect(h.server.requests).toHaveLength(0);
    await expectTypedError(h.driver.createBalancer({ name: 'x', port: 80, protocol: 'gopher', algorithm: 'RANDOM', members: [] }), InvalidInputError, 'protocol');
    expect(h.server.posted).toHaveLength(0);
  });

  it('waits for ACTIVE before changing a balancer in BUILD', async () => {
    h.server.balancers.get(71003)!.status = 'BUILD';
    setTimeout(() => (h.server.balancers.get(71003)!.status = 'ACTIVE'), 80);
    const member = await h.driver.attachMember('71003', { ip: '10.180.2.6', port: 3306 });
    expect(member).toMatchObject({ ip: '10.180.2.6', port: 3306 });
    const gets = h.server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/loadbalancers/71003'));
    expect(gets.length).toBeGreaterThan(1);
  });

  it('maps 422 (immutable / duplicate) to ConflictError and 413 to RateLimitedError', async () => {
    const err = await expectTypedError(h.driver.attachMember('71001', { ip: '10.180.1.10', port: 8080 }), ConflictError);
    expect(err.message).toContain('Duplicate nodes detected');
    const limited = parseClbError({ status: 413, headers: { 'retry-after': '7' }, bodyText: '{"overLimit": {"code": 413, "message": "OverLimit Retry..."}}', operation: 'GET /loadbalancers' });
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(7000);
    expect(parseClbError({ status: 500, headers: {}, bodyText: '', operation: 'x' })).toBeUndefined();
  });

  it('answers NotFoundError for a missing node and 401 with AuthenticationError without the token', async () => {
    await expectTypedError(h.driver.detachMember('71001', '1'), NotFoundError);
    await h.close();
    h = await harness({ account: { credentials: { token: 'rax-wrong-token-4242' } } });
    const err = await expectTypedError(h.driver.listBalancers(), AuthenticationError);
    expect(err.message).toContain('No valid token provided');
    expect(err.message).not.toContain('rax-wrong-token-4242');
  });
});

describe('rackspace-clb: states and accounts', () => {
  it('maps every status', () => {
    expect(BALANCER_STATE).toEqual({ ACTIVE: 'running', BUILD: 'pending', PENDING_UPDATE: 'pending', PENDING_DELETE: 'pending', SUSPENDED: 'error', ERROR: 'error', DELETED: 'deleted' });
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'r', driver: 'rackspace-clb', regions: ['DFW', 'MARS'], credentials: { token: 'tok' }, options: { x: 'secret-y' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateClbAccount(account);
    expect(problems).toEqual([expect.stringContaining('regions[1]'), expect.stringContaining('options.x')]);
    expect(problems.join()).not.toContain('secret-y');
    // an API key goes to Rackspace identity (Keystone v2.0 RAX-KSKEY) and needs the user name
    expect(validateClbAccount({ ...account, regions: ['ORD'], options: {}, credentials: { api_key: 'k' } })).toEqual(['credentials.username is required']);
  });
});
