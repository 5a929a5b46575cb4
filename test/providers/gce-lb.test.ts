/**
 * Compute Engine network load balancing: the shared load-balancer conformance suite in its
 * 'instance' member mode (target pools hold instances, not addresses), against the Compute Engine
 * stand-in with a gce compute driver on the same server supplying the running nodes. Then what is
 * particular to gce-lb: the forwarding rule / target pool pairing, algorithms, members by address,
 * operation waits and cleanup.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, ProviderError } from '../../src/providers/errors.ts';
import type { GoogleDeps } from '../../src/providers/google/client.ts';
import { createGceLbInstance, gceLbProvider, validateGceLbAccount } from '../../src/providers/google/gce-lb/index.ts';
import { createGceInstance } from '../../src/providers/google/gce/index.ts';
import { loadProvider } from '../../src/providers/registry.ts';
import type { ComputeDriver, LoadBalancerDriver } from '../../src/providers/types.ts';
import { expectTypedError, modelChecks, pollUntil } from '../conformance/assertions.ts';
import { testLoadBalancerDriver } from '../conformance/loadbalancer.ts';
import { testDriverContext } from '../helpers/driver-context.ts';
import { conformanceTarget, driverHarness, harnessPerTest, type DriverHarness } from '../helpers/driver-harness.ts';
import { startGceServer, testServiceAccount, type GceTestServer } from '../helpers/gce-server/index.ts';

const FAST: GoogleDeps = { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 }, pollIntervalMs: 10, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))), env: {} };
const KEY_LINES = testServiceAccount('http://127.0.0.1/token').privateKeyPem.split('\n').slice(3, 6);
const check = modelChecks(KEY_LINES);

type Harness = DriverHarness<GceTestServer, LoadBalancerDriver> & { compute: ComputeDriver };

async function harness(): Promise<Harness> {
  const server = await startGceServer();
  const account = { regions: ['us-central1'], endpoint: server.url, credentials: { serviceAccountJson: server.serviceAccountJson } };
  const ctx = testDriverContext({ driver: 'gce-lb', ...account }, { region: 'us-central1' });
  const lb = createGceLbInstance(ctx, FAST);
  const computeInstance = createGceInstance(testDriverContext({ driver: 'gce', ...account }, { region: 'us-central1' }), FAST);
  const h = driverHarness(server, ctx, lb, lb.loadBalancer!);
  return {
    ...h,
    compute: computeInstance.compute!,
    async close() {
      await computeInstance.close?.();
      await h.close();
    },
  };
}

const changes = (h: Harness) => h.server.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/compute/')).map((r) => `${r.method} ${r.path.replace('/compute/v1/projects/skygraph-test/regions/us-central1/', '')}`);

let conformanceServer: GceTestServer | undefined;
testLoadBalancerDriver({
  name: 'gce-lb',
  async create() {
    const h = await harness();
    conformanceServer = h.server;
    return { ...conformanceTarget(h), compute: h.compute };
  },
  capabilities: ['attachNode'],
  memberMode: 'instance',
  memberPort: 80,
  createInput: (base, nodes) => ({ ...base, ex: { instances: nodes.map((n) => n.id) } }),
  waitFor: pollUntil({ intervalMs: 20, timeoutMs: 5_000 }),
  waitTimeoutMs: 5_000,
  secrets: KEY_LINES,
});

describe('gce-lb provider', () => {
  it('the conformance run created a pool and its rule, changed members, and removed both', () => {
    const reqs = conformanceServer!.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/compute/'));
    const seen = reqs.map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);
    expect(seen[0]).toBe('POST us-central1/targetPools');
    expect(seen[1]).toBe('POST us-central1/forwardingRules');
    expect(seen).toEqual(expect.arrayContaining([expect.stringMatching(/addInstance$/), expect.stringMatching(/removeInstance$/), expect.stringMatching(/^DELETE .*forwardingRules\//), expect.stringMatching(/^DELETE .*targetPools\//)]));
    for (const r of reqs) expect(r.query.get('requestId')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is registered as a regional load-balancer provider', async () => {
    expect(await loadProvider('gce-lb')).toBe(gceLbProvider);
    expect(gceLbProvider).toMatchObject({ name: 'gce-lb', services: ['LOADBALANCER'], regional: true, defaultRegion: 'us-central1' });
    const account = testDriverContext({ driver: 'gce-lb', regions: ['us-central1'], credentials: { accessToken: 'ya29.x' }, options: { project: 'skygraph-test', zone: 'us-central1-a' } }).account;
    expect(validateGceLbAccount(account, {})).toEqual(['options.zone is not a gce-lb option (known: project, keyFile)']);
  });
});

describe('gce-lb: balancers', () => {
  let h: Harness;
  harnessPerTest(harness, { get: () => h, set: (made) => (h = made) }, { expectNoFailures: true });

  it('lists forwarding rules that point at target pools, with the pool\'s affinity as the algorithm', async () => {
    const balancers = await h.driver.listBalancers();
    balancers.forEach(check.balancer);
    expect(balancers.map((b) => [b.id, b.ip, b.port, b.protocol, b.algorithm])).toEqual([
      ['web-lb', '203.0.113.10', 80, 'tcp', 'RANDOM'],
      ['dns-udp', '203.0.113.11', 53, 'udp', 'SOURCE_IP'],
    ]);
    expect(balancers[0]!.extra).toMatchObject({ targetPool: 'web-lb', sessionAffinity: 'NONE', healthChecks: ['web-check'], instanceCount: 2, loadBalancingScheme: 'EXTERNAL' });
    expect(balancers[1]!.extra).toMatchObject({ sessionAffinity: 'CLIENT_IP_PROTO' });
    expect(h.server.requests.filter((r) => r.path.startsWith('/compute/')).map((r) => r.path.split('/').pop()).sort()).toEqual(['forwardingRules', 'targetPools']);
  });

  it('lists a pool\'s instances as members with their private address, in one instance lookup', async () => {
    const members = await h.driver.listMembers('web-lb');
    members.forEach(check.member);
    expect(members).toEqual([
      { id: 'us-central1-a/web-1', ip: '10.128.0.2', port: 80, nodeId: 'us-central1-a/web-1', extra: { zone: 'us-central1-a', instance: 'web-1', state: 'running' } },
      { id: 'us-central1-a/web-2', ip: '10.128.0.3', port: 80, nodeId: 'us-central1-a/web-2', extra: { zone: 'us-central1-a', instance: 'web-2', state: 'running' } },
    ]);
    const lookups = h.server.requests.filter((r) => r.path.endsWith('/aggregated/instances'));
    expect(lookups.map((r) => r.query.get('filter'))).toEqual(['(name = "web-1") OR (name = "web-2")']);
  });

  it('creates with SOURCE_IP as CLIENT_IP affinity, members given by address, and a health check', async () => {
    const created = await h.driver.createBalancer({
      name: 'api-lb',
      port: 443,
      protocol: 'TCP',
      algorithm: 'SOURCE_IP',
      members: [{ ip: '10.128.0.2', port: 443 }, { ip: '34.123.45.68', port: 443 }],
      ex: { healthChecks: ['web-check'], description: 'api' },
    });
    expect(created).toMatchObject({ id: 'api-lb', port: 443, protocol: 'tcp', algorithm: 'SOURCE_IP', state: 'running' });
    const pool = h.server.lb.targetPools.get('us-central1/api-lb')!;
    expect(pool).toMatchObject({ sessionAffinity: 'CLIENT_IP', description: 'api' });
    expect((pool.instances as string[]).map((u) => u.split('/projects/skygraph-test/')[1])).toEqual(['zones/us-central1-a/instances/web-1', 'zones/us-central1-a/instances/web-2']);
    const rule = h.server.lb.forwardingRules.get('us-central1/api-lb')!;
    expect(rule).toMatchObject({ IPProtocol: 'TCP', portRange: '443-443', loadBalancingScheme: 'EXTERNAL', target: pool.selfLink });
    expect(changes(h)).toEqual(['POST targetPools', 'POST forwardingRules']);
    expect(h.server.requests.filter((r) => /\/regions\/us-central1\/operations\//.test(r.path)).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses what a network load balancer cannot do before sending anything', async () => {
    const base = { name: 'bad-lb', port: 80, protocol: 'tcp', algorithm: 'RANDOM' as const, members: [] };
    await expectTypedError(h.driver.createBalancer({ ...base, protocol: 'http' }), InvalidInputError, 'protocol');
    await expectTypedError(h.driver.createBalancer({ ...base, algorithm: 'ROUND_ROBIN' }), InvalidInputError, 'algorithm');
    await expectTypedError(h.driver.createBalancer({ ...base, members: [{ ip: '10.128.0.2', port: 8080 }] }), InvalidInputError, 'members[0].port');
    await expectTypedError(h.driver.createBalancer({ ...base, ex: { instances: ['europe-west1-b/eu-web-1'] } }), InvalidInputError, 'ex.instances[0]');
    await expectTypedError(h.driver.createBalancer({ ...base, ex: { backendService: 'x' } }), InvalidInputError, 'ex.backendService');
    expect(changes(h)).toEqual([]);
    await expectTypedError(h.driver.attachMember('web-lb', { ip: '10.128.0.9', port: 8080 }), InvalidInputError, 'member.port');
    await expectTypedError(h.driver.attachMember('web-lb', { ip: '192.0.2.99', port: 80 }), InvalidInputError, 'member[0].ip');
    await expectTypedError(h.driver.detachMember('web-lb', 'us-central1-b/db-1'), NotFoundError);
    expect(changes(h)).toEqual([]);
  });

  it('attaches a member by address and detaches it by id, waiting for each operation', async () => {
    const member = await h.driver.attachMember('dns-udp', { ip: '10.128.0.3', port: 53 });
    expect(member).toMatchObject({ id: 'us-central1-a/web-2', ip: '10.128.0.3', port: 53, nodeId: 'us-central1-a/web-2' });
    expect((await h.driver.listMembers('dns-udp')).map((m) => m.id)).toEqual(['us-central1-b/db-1', 'us-central1-a/web-2']);
    await h.driver.detachMember('dns-udp', 'us-central1-a/web-2');
    expect((await h.driver.listMembers('dns-udp')).map((m) => m.id)).toEqual(['us-central1-b/db-1']);
    expect(changes(h)).toEqual(['POST targetPools/sticky-pool/addInstance', 'POST targetPools/sticky-pool/removeInstance']);
  });

  it('destroys the rule and keeps a pool another rule still uses', async () => {
    await h.driver.createBalancer({ name: 'second', port: 80, protocol: 'tcp', algorithm: 'RANDOM', members: [] });
    // a second rule on the same pool, as an operator might add for another port
    h.server.lb.forwardingRules.set('us-central1/second-8080', { ...h.server.lb.forwardingRules.get('us-central1/second')!, name: 'second-8080', portRange: '8080-8080' });
    await h.driver.destroyBalancer('second');
    expect(h.server.lb.targetPools.has('us-central1/second')).toBe(true);
    await h.driver.destroyBalancer('second-8080');
    expect(h.server.lb.targetPools.has('us-central1/second')).toBe(false);
    await expectTypedError(h.driver.getBalancer('internal-api'), NotFoundError);
  });

  it('deletes the new pool again when the forwarding rule cannot be created', async () => {
    h.server.inject({ match: (r) => r.method === 'POST' && r.path.endsWith('/forwardingRules'), status: 403, body: JSON.stringify({ error: { code: 403, message: "Quota 'FORWARDING_RULES' exceeded. Limit: 15.0 in region us-central1.", errors: [{ message: "Quota 'FORWARDING_RULES' exceeded. Limit: 15.0 in region us-central1.", domain: 'usageLimits', reason: 'quotaExceeded' }] } }) });
    const err = await expectTypedError(h.driver.createBalancer({ name: 'over-quota', port: 80, protocol: 'tcp', algorithm: 'RANDOM', members: [] }), ProviderError);
    expect(err.message).toBe("[gce-lb] POST forwardingRules 403 quotaExceeded: Quota 'FORWARDING_RULES' exceeded. Limit: 15.0 in region us-central1.");
    expect(changes(h)).toEqual(['POST targetPools', 'POST forwardingRules', 'DELETE targetPools/over-quota']);
    expect(h.server.lb.targetPools.has('us-central1/over-quota')).toBe(false);
  });
});
