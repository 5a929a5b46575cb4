import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConflictError, InvalidInputError, NotFoundError, ProviderError, TimeoutError } from '../../src/providers/errors.ts';
import { createOctaviaInstance, octaviaProvisioningState, validateOctaviaAccount, type OctaviaDeps } from '../../src/providers/openstack/octavia/index.ts';
import type { AccountConfig, LoadBalancer, LoadBalancerDriver } from '../../src/providers/types.ts';
import { expectTypedError, pollUntil } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { OCTAVIA_SUBNET_ID, OPENSTACK_TEST_TOKEN, startOctaviaServer, type OctaviaServerOptions, type OctaviaTestServer } from '../helpers/openstack-server.ts';

const WEB_LB = '906d273c-b577-4142-97b7-c437cf707244';
const TCP_LB = '329d3120-f4a5-4090-a2cd-eb9f8b98dd03';
const FAILED_LB = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';
const MISSING = '00000000-dead-4bad-8bad-000000000000';
/** waits poll every 10 ms of real time */
const FAST: OctaviaDeps = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) };

type Harness = DriverHarness<OctaviaTestServer, LoadBalancerDriver>;

async function harness(opts: { server?: OctaviaServerOptions; account?: Partial<AccountConfig>; deps?: OctaviaDeps } = {}): Promise<Harness> {
  const server = await startOctaviaServer(opts.server);
  const ctx = testDriverContext({
    driver: 'octavia',
    // why: catalogs often list the endpoint with its version; the driver strips it
    endpoint: `${server.url}/v2`,
    credentials: { token: OPENSTACK_TEST_TOKEN },
    options: { vipSubnetId: OCTAVIA_SUBNET_ID },
    ...opts.account,
  });
  const instance = createOctaviaInstance(ctx, { ...FAST, ...opts.deps });
  return driverHarness(server, ctx, instance, instance.loadBalancer!);
}

let conformanceServer: OctaviaTestServer | undefined;
testLoadBalancerDriver({
  name: 'octavia',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return conformanceTarget(h);
  },
  capabilities: [],
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  missingBalancerId: MISSING,
  secrets: [OPENSTACK_TEST_TOKEN],
});

describe('octavia: requests and mapping', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('the conformance run sent the token on every request and never touched a pending load balancer', () => {
    const reqs = conformanceServer!.requests;
    expect(reqs.length).toBeGreaterThan(20);
    expect(reqs.every((r) => r.headers['x-auth-token'] === OPENSTACK_TEST_TOKEN)).toBe(true);
    expect(reqs.some((r) => r.method === 'DELETE' && r.path.startsWith('/v2/lbaas/loadbalancers/') && r.query.get('cascade') === 'true')).toBe(true);
  });

  it('maps load balancers with their first listener and its pool', async () => {
    const byId = Object.fromEntries((await h.driver.listBalancers()).map((b) => [b.id, b])) as Record<string, LoadBalancer>;
    expect(byId[WEB_LB]).toMatchObject({ name: 'web-lb', state: 'running', ip: '203.0.113.50', port: 80, protocol: 'http', algorithm: 'LEAST_CONNECTIONS' });
    expect(byId[WEB_LB]!.extra).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE', vipSubnetId: OCTAVIA_SUBNET_ID, poolId: '9a1b4c0e-6f2e-4d0a-8c43-5e2a7b1f0c11' });
    // SOURCE_IP_PORT has no skygraph algorithm: null, with the Octavia name in extra
    expect(byId[TCP_LB]).toMatchObject({ state: 'running', ip: 'fd4e:7a11:9c2d::20', port: 5432, protocol: 'tcp', algorithm: null });
    expect(byId[TCP_LB]!.extra.octaviaAlgorithm).toBe('SOURCE_IP_PORT');
    expect(byId[FAILED_LB]).toMatchObject({ state: 'error', port: null, protocol: null, algorithm: null });
    expect(h.server.requests.map((r) => r.path).sort()).toEqual(['/v2/lbaas/listeners', '/v2/lbaas/loadbalancers', '/v2/lbaas/pools']);
  });

  it('follows loadbalancers_links next to the end', async () => {
    await h.close();
    h = await harness({ server: { maxLimit: 1 } });
    expect((await h.driver.listBalancers()).map((b) => b.name)).toEqual(['web-lb', 'tcp-lb', 'failed-lb']);
    expect(h.server.requests.filter((r) => r.path === '/v2/lbaas/loadbalancers').map((r) => r.query.get('marker'))).toEqual([null, WEB_LB, TCP_LB]);
  });

  it('maps members with their subnet, weight and statuses', async () => {
    const members = await h.driver.listMembers(WEB_LB);
    expect(members).toEqual([
      expect.objectContaining({ id: '4c3b2a19-0f8e-4d7c-b6a5-948372615f0e', ip: '10.0.0.5', port: 8080, nodeId: null }),
      expect.objectContaining({ ip: '10.0.0.6', port: 8080, extra: expect.objectContaining({ weight: 1, backup: true, operatingStatus: 'ERROR', subnetId: OCTAVIA_SUBNET_ID }) as unknown }),
    ]);
  });

  it('creates load balancer, listener, pool and members in order, waiting for ACTIVE between them', async () => {
    const lb = await h.driver.createBalancer({ name: 'api', port: 443, protocol: 'HTTPS', algorithm: 'SOURCE_IP', members: [{ ip: '10.0.0.21', port: 8443 }, { ip: '10.0.0.22', port: 8443 }], ex: { vipSubnetId: OCTAVIA_SUBNET_ID } });
    expect(lb).toMatchObject({ name: 'api', port: 443, protocol: 'https', algorithm: 'SOURCE_IP' });
    const lbId = lb.id;
    expect(h.server.posted.find((p) => p.kind === 'listeners')!.body.loadbalancer_id).toBe(lbId);
    expect(h.server.posted.map((p) => p.kind)).toEqual(['loadbalancers', 'listeners', 'pools', 'members', 'members']);
    expect(h.server.posted[0]!.body).toEqual({ name: 'api', vip_subnet_id: OCTAVIA_SUBNET_ID, admin_state_up: true });
    expect(h.server.posted[1]!.body).toEqual({ name: 'api', protocol: 'HTTPS', protocol_port: 443, loadbalancer_id: lbId });
    expect(h.server.posted[2]!.body).toMatchObject({ name: 'api', protocol: 'HTTPS', lb_algorithm: 'SOURCE_IP' });
    expect(h.server.posted[3]!.body).toEqual({ address: '10.0.0.21', protocol_port: 8443, subnet_id: OCTAVIA_SUBNET_ID });
    // every POST after the first was preceded by a GET that saw the load balancer ACTIVE (the server records a failure otherwise)
    const gets = h.server.requests.filter((r) => r.method === 'GET' && r.path === `/v2/lbaas/loadbalancers/${lbId}`);
    expect(gets.length).toBeGreaterThanOrEqual(4);
  });

  it('deletes the half-built load balancer (cascade) when a later step fails', async () => {
    await h.close();
    h = await harness({ account: { options: { vipSubnetId: OCTAVIA_SUBNET_ID, memberSubnetId: '0bad0000-0000-4000-8000-000000000000' } } });
    const err = await expectTypedError(h.driver.createBalancer({ name: 'half', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [{ ip: '10.0.0.30', port: 80 }] }), ProviderError);
    expect(err.status).toBe(400);
    expect(err.message).toContain('Subnet 0bad0000-0000-4000-8000-000000000000 not found');
    const id = [...h.server.loadbalancers.values()].find((lb) => lb.name === 'half')!.id as string;
    expect(h.server.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.query.get('cascade')])).toEqual([[`/v2/lbaas/loadbalancers/${id}`, 'true']]);
  });

  it('rejects RANDOM and the weighted algorithms before any call, naming algorithm', async () => {
    for (const algorithm of ['RANDOM', 'WEIGHTED_ROUND_ROBIN', 'WEIGHTED_LEAST_CONNECTIONS'] as const) {
      await expectTypedError(h.driver.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm, members: [] }), InvalidInputError, 'algorithm');
    }
    expect(h.driver.listAlgorithms()).toEqual(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']);
    expect(h.server.requests).toHaveLength(0);
  });

  it('requires a VIP subnet', async () => {
    await h.close();
    h = await harness({ account: { options: {} } });
    await expectTypedError(h.driver.createBalancer({ name: 'x', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] }), InvalidInputError, 'ex.vipSubnetId');
    expect(h.server.requests).toHaveLength(0);
  });

  it('turns Octavia faultstrings into typed errors', async () => {
    const err = await expectTypedError(h.driver.getBalancer(MISSING), NotFoundError);
    expect(err.message).toContain(`Load Balancer ${MISSING} not found.`);
  });

  it('gives up waiting for ACTIVE at the deadline with TimeoutError', async () => {
    await h.close();
    h = await harness({ server: { transitionMs: 60_000 }, deps: { waitTimeoutMs: 50 } });
    const attempt = h.driver.createBalancer({ name: 'slow', port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', members: [] });
    await expectTypedError(attempt, TimeoutError);
    expect(h.server.posted.map((p) => p.kind)).toEqual(['loadbalancers']);
  });

  it('surfaces a 409 faultstring as ConflictError', async () => {
    const err = await expectTypedError(h.driver.attachMember(WEB_LB, { ip: '10.0.0.5', port: 8080 }), ConflictError);
    expect(err.message).toContain('Another member on this pool is already using ip 10.0.0.5');
  });

  it('does not change a load balancer that stays pending: TimeoutError, nothing sent', async () => {
    await h.close();
    h = await harness({ deps: { waitTimeoutMs: 30 } });
    h.server.loadbalancers.get(WEB_LB)!.provisioning_status = 'PENDING_UPDATE';
    await expectTypedError(h.driver.attachMember(WEB_LB, { ip: '10.0.0.9', port: 80 }), TimeoutError);
    expect(h.server.posted).toEqual([]);
  });

  it('answers a 401 with AuthenticationError without the token', async () => {
    await h.close();
    h = await harness({ account: { credentials: { token: 'gAAAAAB-wrong-octavia-token' } } });
    const err = await expectTypedError(h.driver.listBalancers(), AuthenticationError);
    expect(err.message).not.toContain('gAAAAAB-wrong-octavia-token');
  });
});

describe('octavia: states and accounts', () => {
  it.each([
    ['ACTIVE', 'ONLINE', 'running'],
    ['ACTIVE', 'DEGRADED', 'running'],
    ['ACTIVE', 'NO_MONITOR', 'running'],
    ['ACTIVE', 'DRAINING', 'running'],
    ['ACTIVE', 'ERROR', 'error'],
    ['ACTIVE', 'OFFLINE', 'unknown'],
    ['PENDING_CREATE', 'OFFLINE', 'pending'],
    ['PENDING_UPDATE', 'ONLINE', 'pending'],
    ['PENDING_DELETE', 'ONLINE', 'pending'],
    ['ERROR', 'OFFLINE', 'error'],
    ['DELETED', 'OFFLINE', 'deleted'],
    ['SOMETHING', 'ONLINE', 'unknown'],
  ] as const)('%s / %s -> %s', (p, o, state) => {
    expect(octaviaProvisioningState(p, o)).toBe(state);
  });

  it('validates accounts naming fields, never values', () => {
    const account: AccountConfig = { id: 'o', driver: 'octavia', regions: [], credentials: {}, endpoint: 'http://127.0.0.1:1', options: { vipSubnetId: '', other: 'secret-value' }, pollIntervalMs: 1, timeoutMs: 1 };
    const problems = validateOctaviaAccount(account);
    expect(problems).toEqual([expect.stringContaining('credentials.token'), expect.stringContaining('options.vipSubnetId'), expect.stringContaining('options.other')]);
    expect(problems.join()).not.toContain('secret-value');
  });
});
